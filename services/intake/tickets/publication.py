"""Which of intake's stored events are public, and their envelopes.

Used by the relay (to Kafka) and by the HTTP event feed, so both carry the same
envelope, with the same id, for the same stored event. Public events carry ids
and classifications, never bodies, titles or names: a ticket opened since its words are
sealed is published as `ticket.opened` v3 with the keyed digests of its words, which the
application made when it opened the ticket; one stored before is published as it always
was, v2 with its plain words (a published event is never edited). One opened since its custom
fields' kinds are recorded is v4, with its language and the values of the kinds that hold no
personal data (choice, number, boolean; `ticket.custom_fields_changed` carries their changes). Likewise a comment:
`ticket.commented` v2 says who wrote it (staff, requester, other); one stored before it was
recorded is published as v1. A ticket imported from another desk is published as `ticket.opened` v5,
which says from where; one opened here stays v4. A ticket whose organisation has an SLA policy or calendar of
its own (recorded on its `Opened` since v7) is published as v6, which names them; any other stays v4 or v5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Notification

from schemas import topics
from schemas.audit import AuditCheckpointedV1, StreamHead
from schemas.envelope import EnvelopeFields, EventData
from schemas.keywords import words
from schemas.tickets import (
    TicketAssignedV1,
    TicketCommentedV1,
    TicketCommentedV2,
    TicketCustomFieldsChangedV1,
    TicketLinkedV1,
    TicketMacroAppliedV1,
    TicketMergedV1,
    TicketOpenedV2,
    TicketOpenedV3,
    TicketOpenedV4,
    TicketOpenedV5,
    TicketOpenedV6,
    TicketPriorityChangedV1,
    TicketRatedV1,
    TicketReclassifiedV1,
    TicketSolutionLinkedV1,
    TicketStatusChangedV1,
    TicketSurveyRequestedV1,
    TicketTimeLoggedV1,
    TicketTriggerAppliedV2,
    TicketTriggerRefusedV1,
)
from services.chassis.messaging.relay import Publication, PublicFields, published_on, validated
from services.chassis.storage.ids import stable_id
from services.intake.audit.checkpoints import Checkpoints
from services.intake.tickets.domain import Ticket
from services.intake.tickets.events.base import event_name
from services.intake.tickets.fields import public_values
from services.intake.tickets.vocabulary import Status

SOURCE = "intake"
AUDIT_ACTOR = "system:audit"

_STATUS_CHANGES: dict[str, Status] = {
    "WorkStarted": Status.OPEN,
    "MarkedPending": Status.PENDING,
    "Resumed": Status.OPEN,
    "Resolved": Status.RESOLVED,
    "Reopened": Status.OPEN,
    "Closed": Status.CLOSED,
}


def envelope_id(event: DomainEventProtocol[UUID], ticket_id: str | None = None) -> str:
    return stable_id(SOURCE, ticket_id or event.originator_id, event.originator_version)


def public_data(event: Any, ticket_id: str | None = None) -> EventData | None:
    """The public event one stored ticket event becomes, or None for a private one (`ticket_id`:
    the event's originator id as text, when the caller has it already).

    One at most: consumers track what they applied by store position.
    """
    name, ticket_id = type(event).__name__, ticket_id or str(event.originator_id)
    if isinstance(event, Ticket.Opened):
        opened = {
            "ticket_id": ticket_id, "number": event.number, "requester_id": event.requester_id,
            "channel": event.channel, "category": event.category, "type": event.type, "priority": event.priority,
            "tags": event.tags, "organisation": event.organisation, "group_id": event.group_id,
        }  # fmt: skip
        if event.keyword_digests is None:  # stored before the words were sealed: as it was published then
            return TicketOpenedV2(**opened, keywords=words(f"{event.title}\n{event.description}"))
        if event.custom_field_kinds is None:  # stored before its fields' kinds were: as it was published then
            return TicketOpenedV3(**opened, keyword_digests=event.keyword_digests)
        shown = public_values(event.custom_fields, event.custom_field_kinds)
        fields = {"keyword_digests": event.keyword_digests, "language": event.language, "custom_fields": shown}
        if event.sla_policy_id is not None or event.sla_calendar_id is not None:  # its organisation's own SLA
            own_sla = {"sla_policy_id": event.sla_policy_id, "sla_calendar_id": event.sla_calendar_id}
            return TicketOpenedV6(**opened, **fields, imported_from=event.imported_from, **own_sla)
        if event.imported_from is None:  # opened here: as every ticket opened here is published since v4
            return TicketOpenedV4(**opened, **fields)
        return TicketOpenedV5(**opened, **fields, imported_from=event.imported_from)
    if name in _STATUS_CHANGES:
        pending_until = getattr(event, "pending_until", None)
        return TicketStatusChangedV1(
            ticket_id=ticket_id,
            status=_STATUS_CHANGES[name].value,
            change=event_name(event),
            pending_until=pending_until.isoformat() if pending_until else None,
            waiting_for=getattr(event, "waiting_for", None),
        )
    builder = _BUILDERS.get(name)
    return builder(ticket_id, event) if builder is not None else None


def _commented(ticket_id: str, event: Any) -> TicketCommentedV1:
    """v2 says who wrote; a comment stored before v2 is published as it was then, v1."""
    fields = {"ticket_id": ticket_id, "comment_id": event.comment_id, "public": event.public,
              "author_id": event.author_id, "channel": event.channel}  # fmt: skip
    if event.author_kind is None:
        return TicketCommentedV1(**fields)
    return TicketCommentedV2(**fields, author_kind=event.author_kind)


def _custom_fields_changed(ticket_id: str, event: Any) -> TicketCustomFieldsChangedV1 | None:
    """Only the values of kinds that hold no personal data (choice, number, boolean), and the keys unset; a change
    of text or date fields only, or one stored before the kinds were recorded (never published), is private."""
    if event.kinds is None:
        return None
    shown = public_values(event.values, event.kinds)
    if not shown and not event.unset:
        return None
    return TicketCustomFieldsChangedV1(ticket_id=ticket_id, values=shown, unset=list(event.unset))


def _macro_applied(ticket_id: str, event: Any) -> TicketMacroAppliedV1:
    """What the macro did, by name only: the values are in the events after it (custom fields, private)."""
    return TicketMacroAppliedV1(
        ticket_id=ticket_id,
        macro_id=event.macro_id,
        macro_version=event.macro_version,
        language=event.language,
        comment_id=event.comment_id,
        public=event.public,
        actions=sorted(event.actions),
    )


def _trigger_applied(ticket_id: str, event: Any) -> TicketTriggerAppliedV2:
    """What the trigger did, by name only, as `ticket.macro_applied` says it, and whom it calls and tells (the
    group's addresses stay in intake: the notifications outbox reads them from the store)."""
    group = event.actions.get("notify_group") or {}
    return TicketTriggerAppliedV2(
        ticket_id=ticket_id,
        trigger_id=event.trigger_id,
        trigger_version=event.trigger_version,
        firing_id=event.firing_id,
        reason=event.reason,
        actions=sorted(event.actions),
        webhook_ids=list(event.actions.get("webhook_ids", [])),
        notify_group_id=group.get("group_id"),
    )


def _time_logged(ticket_id: str, event: Any) -> TicketTimeLoggedV1:
    """Time logged, without its note (sealed, in intake), credited to the requester, organisation and group
    the ticket had when it was logged."""
    return TicketTimeLoggedV1(
        ticket_id=ticket_id,
        entry_id=event.entry_id,
        agent_id=event.agent_id,
        minutes=event.minutes,
        activity=event.activity,
        billable=event.billable,
        worked_on=event.worked_on,
        corrects=event.corrects,
        requester_id=event.requester_id,
        organisation=event.organisation,
        group_id=event.group_id,
    )


_BUILDERS: dict[str, Callable[[str, Any], EventData | None]] = {
    "PriorityChanged": lambda t, e: TicketPriorityChangedV1(ticket_id=t, priority=e.priority, previous=e.previous),
    "CategoryChanged": lambda t, e: TicketReclassifiedV1(ticket_id=t, category=e.category),
    "TypeChanged": lambda t, e: TicketReclassifiedV1(ticket_id=t, type=e.type),
    "TagsChanged": lambda t, e: TicketReclassifiedV1(ticket_id=t, tags_added=e.added, tags_removed=e.removed),
    "Assigned": lambda t, e: TicketAssignedV1(ticket_id=t, group_id=e.group_id, agent_id=e.agent_id),
    "Unassigned": lambda t, e: TicketAssignedV1(ticket_id=t, group_id=None, agent_id=None),
    "CommentAdded": _commented,
    "MergedInto": lambda t, e: TicketMergedV1(ticket_id=t, into_ticket_id=e.target_id),  # and so closed
    "Linked": lambda t, e: TicketLinkedV1(ticket_id=t, other_ticket_id=e.ticket_id, kind=e.kind),
    "Unlinked": lambda t, e: TicketLinkedV1(ticket_id=t, other_ticket_id=e.ticket_id, kind=None),
    "SurveyRequested": lambda t, e: TicketSurveyRequestedV1(ticket_id=t),
    "Rated": lambda t, e: TicketRatedV1(ticket_id=t, score=e.score),
    "SolutionLinked": lambda t, e: TicketSolutionLinkedV1(ticket_id=t, article_id=e.article_id),
    "CustomFieldsChanged": _custom_fields_changed,
    "MacroApplied": _macro_applied,
    "TriggerApplied": _trigger_applied,
    "TimeLogged": _time_logged,
    "TriggerRefused": lambda t, e: TicketTriggerRefusedV1(
        ticket_id=t,
        trigger_id=e.trigger_id,
        trigger_version=e.trigger_version,
        firing_id=e.firing_id,
        refusal=e.refusal,
        for_good=e.for_good,
    ),
}


def envelope(event: Ticket.Event, position: int) -> EnvelopeFields | None:
    ticket_id = str(event.originator_id)
    data = public_data(event, ticket_id)
    if data is None:
        return None
    metadata: dict[str, str] = event.metadata
    return {
        "id": envelope_id(event, ticket_id),
        "type": data.event_type,
        "version": data.event_version,
        "source": SOURCE,
        "subject": ticket_id,
        "tenant": event.tenant,
        "actor": event.actor,
        "occurred_at": event.timestamp,
        "sequence": event.originator_version,
        "position": position,
        "correlation_id": metadata["correlation_id"],
        "causation_id": metadata["causation_id"],
        "traceparent": metadata.get("traceparent"),
        "data": data.model_dump(mode="json"),
    }


def public_fields(app: Application) -> PublicFields:  # type: ignore[type-arg]
    """A stored notification of `app` to its public (topic, envelope fields), or None."""
    return published_on(topics.TICKETS, Ticket.Event, envelope, app)


def checkpoint_envelope(event: Any, position: int) -> EnvelopeFields:
    """A signed checkpoint of the store's heads, as `intake.checkpoints` carries it (every tenant's
    streams: `tenant` is `*`)."""
    heads = [
        StreamHead(stream_id=stream, version=head[0], hash=head[1], tenant=head[2])
        for stream, head in sorted(event.heads.items())
    ]
    data = AuditCheckpointedV1(
        position=event.position, previous_signature=event.previous, signature=event.signature, heads=heads
    )
    envelope_id_ = envelope_id(event)
    return {
        "id": envelope_id_, "type": data.event_type, "version": data.event_version, "source": SOURCE,
        "subject": str(event.originator_id), "tenant": "*", "actor": AUDIT_ACTOR, "occurred_at": event.timestamp,
        "sequence": event.originator_version, "position": position, "correlation_id": envelope_id_,
        "causation_id": envelope_id_, "data": data.model_dump(mode="json"),
    }  # fmt: skip


def relayed_fields(app: Application) -> PublicFields:  # type: ignore[type-arg]
    """What the relay publishes: the public ticket events, and the audit checkpoints on their own topic."""
    tickets = public_fields(app)
    checkpoints = published_on(topics.CHECKPOINTS, Checkpoints.Recorded, checkpoint_envelope, app)
    checkpoints_id = Checkpoints.create_id()

    def publish(notification: Notification) -> tuple[str, EnvelopeFields] | None:
        return (checkpoints if notification.originator_id == checkpoints_id else tickets)(notification)

    return publish


def publication(app: Application) -> Publication:  # type: ignore[type-arg]
    """The relay's mapping for `app`: a stored notification to its public (topic, envelope), or None."""
    return validated(relayed_fields(app))
