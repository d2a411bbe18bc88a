"""What every ticket event shares (who, for whom, why, chained by hash to the one before), the
`Opened` event, and the names events go by.

The `Ticket` aggregate (domain.py) decides; the classes of this package record and apply. Each is
named on the aggregate (`Opened = base.Opened`...), where eventsourcing makes it the class it stores,
so every event keeps its topic `services.intake.tickets.domain:Ticket.<Event>`. An event's fields are
never changed in place: a new field is a new `class_version` with an upcaster, as `Opened` shows.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from services.intake.audit import chain
from services.intake.tickets.vocabulary import Status

if TYPE_CHECKING:
    from services.intake.tickets.domain import Ticket


class TicketEvent(Aggregate.Event):
    """Every ticket event: on whose behalf, by whom, why (`metadata`), and chained to the one before."""

    tenant: str
    actor: str
    metadata: dict[str, str]

    def __post_init__(self) -> None:
        # Runs when the event is first made, never on replay (stored events are
        # restored without __init__): the hash is sealed once, at the source.
        object.__setattr__(self, chain.HASH, chain.digest(get_topic(type(self)), vars(self)))

    def mutate(self, aggregate: Any) -> Any:
        aggregate = super().mutate(aggregate)
        aggregate.chain_head = getattr(self, chain.HASH)
        return aggregate


class Opened(TicketEvent, Aggregate.Created):
    """The ticket opened with a `TicketForm`'s fields (form.py) and its number; `Ticket.__init__` applies it."""

    number: str
    title: str
    description: str
    requester_id: str
    channel: str
    category: str
    type: str
    priority: str
    tags: list[str]
    custom_fields: dict[str, Any]
    follow_up_of: str | None
    split_from: str | None
    organisation: str | None
    group_id: str | None  # v4: the group the channel it came in on sends it to (a desk mailbox's)
    keyword_digests: list[str] | None
    language: str | None  # v5: the ticket's language (ISO 639-1), as its channel or caller said it
    custom_field_kinds: dict[str, str] | None  # v5: each custom field's kind when it was set (a field may change)
    imported_from: dict[str, str] | None  # v6: opened by an import, from this desk (system, url, id)
    sla_policy_id: str | None  # v7: its organisation's own SLA policy and calendar, when it opened
    sla_calendar_id: str | None

    class_version = 7

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("custom_fields", {})
        state.setdefault("follow_up_of", None)
        state.setdefault("split_from", None)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state.setdefault("organisation", None)

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        """v4 carries the group its channel sends it to (a desk mailbox's) and the keyed digests
        of the words (its title and description are sealed); an event before v4 has plain words,
        and was published with them (`ticket.opened` v2)."""
        state.setdefault("group_id", None)
        state.setdefault("keyword_digests", None)

    @staticmethod
    def upcast_v4_v5(state: dict[str, Any]) -> None:
        """v5 records the ticket's language and the kinds of its custom fields, which `ticket.opened` v4 carries
        (a field's value is public only for a kind that cannot hold personal data); an event before v5 knew
        neither, and was published without them (`ticket.opened` v3)."""
        state.setdefault("language", None)
        state.setdefault("custom_field_kinds", None)

    @staticmethod
    def upcast_v5_v6(state: dict[str, Any]) -> None:
        """v6 says when the ticket was imported from another desk (`imported_from`); none before was."""
        state.setdefault("imported_from", None)

    @staticmethod
    def upcast_v6_v7(state: dict[str, Any]) -> None:
        """v7 records the SLA policy and calendar of the ticket's organisation when it opened, which
        `ticket.opened` v6 carries; an event before v7 named neither, and was published without them (v4, v5)."""
        state.setdefault("sla_policy_id", None)
        state.setdefault("sla_calendar_id", None)


class StatusChanged(TicketEvent):
    """An event that moves the ticket to the status `moves_to` (a class constant, not stored), for `reason`;
    a ticket that is not pending waits for nobody."""

    moves_to: ClassVar[Status]
    reason: str

    def apply(self, ticket: Ticket) -> None:
        ticket.status = self.moves_to.value
        ticket.status_reason = self.reason
        if self.moves_to != Status.PENDING:
            ticket.pending_until = None
            ticket.waiting_for = None


def event_name(event: object) -> str:
    """An event's name as the API and public events say it: `MarkedPending` -> `marked_pending`."""
    return _snake_case(type(event).__name__)


@cache  # a feed page names thousands of events of a few classes
def _snake_case(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
