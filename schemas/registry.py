"""Every published event type and version, and how to read an envelope's data."""

from __future__ import annotations

from schemas.envelope import Envelope, MalformedEventError
from schemas.tickets import (
    EventData,
    TicketAssignedV1,
    TicketCommentedV1,
    TicketLinkedV1,
    TicketMergedV1,
    TicketOpenedV1,
    TicketPriorityChangedV1,
    TicketReclassifiedV1,
    TicketStatusChangedV1,
)

EVENT_TYPES: tuple[type[EventData], ...] = (
    TicketOpenedV1,
    TicketStatusChangedV1,
    TicketPriorityChangedV1,
    TicketReclassifiedV1,
    TicketAssignedV1,
    TicketCommentedV1,
    TicketMergedV1,
    TicketLinkedV1,
)

_BY_KEY: dict[tuple[str, int], type[EventData]] = {(t.event_type, t.event_version): t for t in EVENT_TYPES}


class UnknownEventError(MalformedEventError):
    """An envelope whose (type, version) this build does not know."""


def model_for(event_type: str, version: int) -> type[EventData]:
    try:
        return _BY_KEY[(event_type, version)]
    except KeyError:
        raise UnknownEventError(f"unknown event type {event_type!r} version {version}") from None


def parse_data(envelope: Envelope) -> EventData:
    """The typed data of `envelope`; raise MalformedEventError when it does not fit its schema."""
    model = model_for(envelope.type, envelope.version)
    try:
        return model.model_validate(envelope.data)
    except ValueError as error:
        raise MalformedEventError(f"data does not match {envelope.type} v{envelope.version}: {error}") from None
