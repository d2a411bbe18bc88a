"""How a ticket is classified (priority, category, type, tags, custom fields) and who it is assigned to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from services.intake.tickets.events.base import TicketEvent

if TYPE_CHECKING:
    from services.intake.tickets.domain import Ticket


class ValueChanged(TicketEvent):
    """One classification value changed from `previous`: the event's field named `changes` (a class constant,
    not stored) holds the new value, for the ticket's attribute of the same name."""

    changes: ClassVar[str]
    previous: str
    reason: str

    def apply(self, ticket: Ticket) -> None:
        setattr(ticket, self.changes, getattr(self, self.changes))


class PriorityChanged(ValueChanged):
    changes = "priority"
    priority: str


class CategoryChanged(ValueChanged):
    changes = "category"
    category: str


class TypeChanged(ValueChanged):
    changes = "type"
    type: str


class TagsChanged(TicketEvent):
    added: list[str]
    removed: list[str]
    reason: str

    def apply(self, ticket: Ticket) -> None:
        ticket.tags = sorted((set(ticket.tags) | set(self.added)) - set(self.removed))


class CustomFieldsChanged(TicketEvent):
    """v2 records each value's field kind as the tenant defined it when it was set (`kinds`): only the values of
    kinds that cannot hold personal data are published. None on an event before v2 (none of it is published)."""

    values: dict[str, Any]
    unset: list[str]
    reason: str
    kinds: dict[str, str] | None

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("kinds", None)

    def apply(self, ticket: Ticket) -> None:
        values = ticket.custom_fields | self.values
        ticket.custom_fields = {k: v for k, v in values.items() if k not in self.unset}


class Assigned(TicketEvent):
    """v2 adds `decision_id`: the routing decision applied, or None for a person's assignment."""

    group_id: str
    agent_id: str | None
    reason: str
    decision_id: str | None

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("decision_id", None)  # routing did not exist before v2

    def apply(self, ticket: Ticket) -> None:
        ticket.group_id = self.group_id
        ticket.agent_id = self.agent_id
        ticket.assignment_decision = self.decision_id
        ticket.assignment_touched = True


class Unassigned(TicketEvent):
    reason: str

    def apply(self, ticket: Ticket) -> None:
        ticket.group_id = None
        ticket.agent_id = None
        ticket.assignment_decision = None
        ticket.assignment_touched = True
