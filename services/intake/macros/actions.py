"""What a macro (and later a trigger) does to a ticket besides replying: its actions, and running them.

An action names the state it wants (status `resolved`, priority `P2`, tags, custom fields, a group),
not the command that gets there: `run_actions` picks the ticket's command for its current status
(start work, resume, reopen...), and a value the ticket has already records nothing. Pure: the
application checks custom fields against the tenant's and seals words before calling it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from services.intake.tickets.domain import Ticket
from services.intake.tickets.errors import TicketRuleError
from services.intake.tickets.fields import TenantFields
from services.intake.tickets.vocabulary import Status, WaitingFor

PENDING_HOURS = 72  # how long a macro's "pending" waits for the customer unless it says otherwise


@dataclass(frozen=True)
class Actions:
    """Every field optional: None (or empty) leaves that part of the ticket as it is."""

    status: str | None = None
    status_reason: str | None = None
    pending_hours: int | None = None
    priority: str | None = None
    tags_add: list[str] = field(default_factory=list)
    tags_remove: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    group_id: str | None = None
    custom_field_kinds: dict[str, str] = field(default_factory=dict)  # set when checked (`checked_by`), not stored

    @classmethod
    def of(cls, data: dict[str, Any]) -> Actions:
        return cls(**{key: value for key, value in data.items() if key in cls.__dataclass_fields__})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> dict[str, Any]:
        """Only what the actions change: what an event or a preview says they did."""
        kept = self.as_dict().items()
        return {key: value for key, value in kept if value not in (None, [], {}) and key != "custom_field_kinds"}

    def checked_by(self, fields: TenantFields) -> Actions:
        """These actions with their custom fields checked against the tenant's (CustomFieldError naming one) and
        each one's kind recorded."""
        checked = fields.check(self.custom_fields, complete=False)
        return replace(self, custom_fields=checked, custom_field_kinds=fields.kinds_of(checked))


def run_actions(ticket: Ticket, actions: Actions, reason: str, now: datetime, seal: Callable[[str], str]) -> None:
    """Run each action on `ticket` (custom fields already checked); `reason` is the history's why
    unless the status action gives its own; `seal` seals words (a resolution) with the requester's key."""
    if actions.priority is not None:
        ticket.change_priority(actions.priority, reason)
    if actions.tags_add or actions.tags_remove:
        ticket.retag(actions.tags_add, actions.tags_remove, reason)
    if actions.custom_fields:
        ticket.change_custom_fields(actions.custom_fields, [], reason, actions.custom_field_kinds)
    if actions.group_id is not None and actions.group_id != ticket.group_id:
        ticket.assign(actions.group_id, None, reason)
    if actions.status is not None:
        _move(ticket, Status(actions.status), actions.status_reason or reason, actions, now, seal)


def _move(
    ticket: Ticket, status: Status, reason: str, actions: Actions, now: datetime, seal: Callable[[str], str]
) -> None:
    """Bring the ticket to `status` by the command its current status allows (the ticket refuses others)."""
    current = Status(ticket.status)
    if status == current and status != Status.PENDING:
        return
    if status == Status.OPEN:
        moves = {Status.NEW: ticket.start_work, Status.PENDING: ticket.resume, Status.RESOLVED: ticket.reopen}
        if current not in moves:
            raise TicketRuleError("status", f"a {current.value} ticket cannot be opened again")
        moves[current](reason)
    elif status == Status.PENDING:
        hours = actions.pending_hours or PENDING_HOURS
        ticket.mark_pending(WaitingFor.CUSTOMER, now + timedelta(hours=hours), reason)
    elif status == Status.RESOLVED:
        ticket.resolve(seal(reason), reason)
    elif status == Status.CLOSED:
        if current != Status.RESOLVED:
            ticket.resolve(seal(reason), reason)
        ticket.close(reason)
    else:
        raise TicketRuleError("status", f"a macro cannot make a ticket {status.value}")
