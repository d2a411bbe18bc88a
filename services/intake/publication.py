"""Which of intake's stored events are public, and their envelopes.

Used by the relay (to Kafka) and by the HTTP event feed, so both carry the same
envelope, with the same id, for the same stored event.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Notification

from schemas import topics
from schemas.envelope import Envelope
from schemas.tickets import TicketOpenedV1
from services.chassis.relay import Publication
from services.intake.domain import Ticket

SOURCE = "intake"


def envelope_id(event: DomainEventProtocol[UUID]) -> str:
    return str(
        uuid5(
            NAMESPACE_URL,
            f"/servicedesk/{SOURCE}/{event.originator_id}/{event.originator_version}",
        )
    )


def ticket_opened(event: Ticket.Opened, position: int) -> Envelope:
    data = TicketOpenedV1(
        ticket_id=str(event.originator_id),
        number=event.number,
        requester_id=event.requester_id,
        channel=event.channel,
        category=event.category,
        type=event.type,
        priority=event.priority,
        tags=event.tags,
    )
    return _envelope(
        event,
        position,
        data.event_type,
        data.event_version,
        data.model_dump(mode="json"),
    )


def _envelope(
    event: Ticket.Event,
    position: int,
    type_: str,
    version: int,
    data: dict[str, object],
) -> Envelope:
    metadata: dict[str, str] = event.metadata
    return Envelope(
        id=envelope_id(event),
        type=type_,
        version=version,
        source=SOURCE,
        subject=str(event.originator_id),
        tenant=event.tenant,
        actor=event.actor,
        occurred_at=event.timestamp,
        sequence=event.originator_version,
        position=position,
        correlation_id=metadata["correlation_id"],
        causation_id=metadata["causation_id"],
        traceparent=metadata.get("traceparent"),
        data=data,
    )


def publication(app: Application) -> Publication:  # type: ignore[type-arg]
    """The relay's mapping for `app`: a stored notification to (topic, envelope), or None."""

    def publish(notification: Notification) -> tuple[str, Envelope] | None:
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, Ticket.Opened):
            return topics.TICKETS, ticket_opened(event, notification.id)
        return None

    return publish
