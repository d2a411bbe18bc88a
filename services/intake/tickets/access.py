"""Which of a tenant's tickets a person may see and what they may do with them.

- admin: every ticket of the tenant;
- agent and supervisor: tickets of their groups, tickets assigned to them, and tickets no
  group has yet (the tenant's unrouted inbox);
- customer: their own tickets and, when they belong to an organisation, their organisation's:
  as the directory knows them (their person's id, their organisation's id: people/customers.py)
  and as their token names them (its subject, its organisation claim), so that tickets stored
  before customers were people stay theirs; they see public comments only, and may
  comment (publicly), reopen and rate, nothing else; the time the desk logged on a ticket is the
  staff's alone.

A ticket the caller may not see is answered 404, exactly as one that does not exist: its
existence is not revealed. An action a customer may not take on a ticket they can see is 403.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from schemas.visibility import staff_sees
from services.chassis.http.auth import Forbidden, Principal, Role
from services.intake.tickets.application import Intake
from services.intake.tickets.domain import Ticket
from services.intake.tickets.representations import HistoryEntry
from services.intake.tickets.work import TicketNotFoundError

CUSTOMER_ACTIONS = frozenset({"comments", "reopen", "rating", "attachments"})


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    requester: str | None = None
    organisation: str | None = None
    groups: frozenset[str] = frozenset()
    agent: str | None = None
    person: str | None = None  # a customer's person in the directory, beside their token's subject
    organisation_id: str | None = None  # their organisation's id there, beside their token's claim

    @classmethod
    def of(cls, who: Principal) -> Scope:
        if who.has(Role.ADMIN):
            return cls(everything=True)
        if who.has(Role.AGENT, Role.SUPERVISOR):
            return cls(groups=who.groups, agent=who.subject)
        return cls(
            requester=who.subject, organisation=who.organisation, person=who.person,
            organisation_id=who.organisation_id,
        )  # fmt: skip

    @property
    def staff(self) -> bool:
        return self.everything or self.agent is not None

    def admits(self, ticket: Any) -> bool:
        """`ticket`: a Ticket, or a row of the ticket list (the same attribute names)."""

        def get(name: str) -> Any:
            return ticket.get(name) if isinstance(ticket, dict) else getattr(ticket, name, None)

        if self.everything:
            return True
        if self.agent is not None:
            return staff_sees(self.groups, self.agent, get("group_id"), get("agent_id"))
        if get("requester_id") in self.requesters:
            return True
        return get("organisation") in self.organisations

    @property
    def requesters(self) -> list[str]:
        """A customer's requester ids: their token's subject, and their person's id."""
        return [r for r in dict.fromkeys((self.requester, self.person)) if r is not None]

    @property
    def organisations(self) -> list[str]:
        """A customer's organisations: their token's claim, and their organisation's id."""
        return [o for o in dict.fromkeys((self.organisation, self.organisation_id)) if o is not None]

    def sql(self) -> tuple[str, dict[str, Any]]:
        """The same rule as a condition on `intake_tickets` (customers: their own tickets)."""
        if self.everything:
            return "", {}
        if self.agent is not None:
            names = {f"scope_group{n}": group for n, group in enumerate(sorted(self.groups))}
            in_groups = f" OR group_id IN ({', '.join(':' + n for n in names)})" if names else ""
            return f"(group_id IS NULL OR agent_id = :scope_agent{in_groups})", {"scope_agent": self.agent} | names
        requesters = {f"scope_requester{n}": r for n, r in enumerate(self.requesters)}
        organisations = {f"scope_organisation{n}": o for n, o in enumerate(self.organisations)}
        condition = f"requester_id IN ({', '.join(':' + n for n in requesters)})"
        if organisations:
            condition = f"({condition} OR organisation IN ({', '.join(':' + n for n in organisations)}))"
        return condition, requesters | organisations

    def own(self) -> Scope:
        """A customer's own tickets only (not their organisation's): as their person's or their token's subject's."""
        return replace(self, organisation=None, organisation_id=None)

    def opened_as(self) -> tuple[str | None, str | None]:
        """A customer's ticket's requester and organisation: their person's and their organisation's ids
        (the token's subject and claim while they are not resolved, or the claim names no organisation)."""
        return self.person or self.requester, self.organisation_id or self.organisation


def visible_ticket(intake: Intake, ticket_id: UUID, who: Principal, action: str | None = None) -> Ticket:
    """The ticket, if `who` may see it (TicketNotFoundError otherwise) and take `action` on it."""
    ticket = intake.get_ticket(ticket_id, who.tenant)
    scope = Scope.of(who)
    if not scope.admits(ticket):
        raise TicketNotFoundError(ticket_id)
    if action is not None and not scope.staff and action not in CUSTOMER_ACTIONS:
        raise Forbidden(f"a customer may not {action.replace('-', ' ')} a ticket", rule="role")
    return ticket


def internal_notes(ticket: Ticket) -> set[str]:
    """The ids of the ticket's internal notes."""
    return {key for key, comment in ticket.comments.items() if not comment["public"]}


def readable_attachments(ticket: Ticket, who: Principal) -> dict[str, dict[str, Any]]:
    """The ticket's files `who` may list and download: the staff all of them; a customer none attached
    to an internal note (the attachment list and the download alike)."""
    if Scope.of(who).staff:
        return ticket.attachments
    internal = internal_notes(ticket)
    return {key: value for key, value in ticket.attachments.items() if value.get("comment_id") not in internal}


def readable(entries: list[HistoryEntry], who: Principal, ticket: Ticket) -> list[HistoryEntry]:
    """What of the ticket's history `who` may read: the staff all of it; a customer neither an
    internal note, nor a file attached to one, nor time logged (the history and the ticket's live stream alike)."""
    if Scope.of(who).staff:
        return entries
    internal = internal_notes(ticket)
    return [
        e
        for e in entries
        if e.changes.get("public", True) is not False
        and e.changes.get("comment_id") not in internal
        and e.event != "time_logged"
    ]
