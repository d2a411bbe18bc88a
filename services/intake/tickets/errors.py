"""The commands a ticket refuses, one class per kind: the API maps each kind to one problem."""

from __future__ import annotations

from services.intake.tickets.vocabulary import Status


class TicketError(Exception):
    """A command the ticket refuses; the API maps each kind to one problem."""


class IllegalTransitionError(TicketError):
    """The lifecycle does not allow this command from the ticket's current state."""

    def __init__(self, current: str, requested: str, command: str) -> None:
        super().__init__(f"cannot {command} a {current} ticket (it would become {requested})")
        self.current = current
        self.requested = requested
        self.command = command


class TicketClosedError(IllegalTransitionError):
    """A closed ticket is final: a follow-up ticket links to it instead."""

    def __init__(self, command: str) -> None:
        TicketError.__init__(self, f"the ticket is closed, which is final: cannot {command}")
        self.current = Status.CLOSED.value
        self.requested = command
        self.command = command


class TicketRuleError(TicketError):
    """A rule other than the lifecycle (e.g. a ticket cannot merge into itself)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class TimeEntryError(TicketError):
    """A time entry the ticket refuses; `field` names the entry's field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
