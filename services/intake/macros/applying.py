"""A macro made ready for one ticket: its body in the right language rendered with the ticket's facts.

The preview and the apply route both go through `prepare`, so what an agent previews is what applying
records. The language: the one asked for, else the requester's (their profile), else the tenant's desk
mailbox's, else English, else the macro's first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.chassis.runtime.settings import Settings
from services.intake.macros.actions import Actions
from services.intake.macros.application import MacroUse
from services.intake.macros.domain import Caller, Visibility
from services.intake.macros.texts import pick_language, render_body
from services.intake.people.finder import People
from services.intake.rendering.context import TicketFacts, ticket_context
from services.intake.tickets.application import Intake
from services.intake.tickets.sla_status import SlaStatus


class MacroDesk:
    """What rendering a macro for a ticket reads: the ticket, its requester, its SLA, the portal's address."""

    def __init__(
        self, intake: Intake, sla: SlaStatus | None = None, settings: Settings | None = None, portal: str | None = None
    ) -> None:
        """`portal`: the requesters' web portal (`{tenant}` in it is the tenant), the base of `kb.link`."""
        self.intake, self.sla, self.settings, self.portal = intake, sla, settings, portal
        self.people = People(intake, intake.personal)

    def prepare(
        self, tenant: str, ticket_id: UUID, macro_id: UUID, caller: Caller, agent_name: str, language: str | None
    ) -> MacroUse:
        """The macro (usable by the caller) rendered for the ticket; the caller must see the ticket already."""
        macro = self.intake.macro(tenant, macro_id, caller)
        macro.check_usable_by(caller)
        ticket = self.intake.get_ticket(ticket_id, tenant)
        profile = self.people.profile(tenant, ticket.requester_id)
        mailbox = self.settings.mailbox_of(tenant) if self.settings else None
        bodies: dict[str, str] = macro.spec["body"]
        wanted = [language, profile.language if profile else None, mailbox[1].language if mailbox else None]
        chosen = pick_language(bodies, wanted)
        facts = TicketFacts(
            number=ticket.number,
            title=self.intake.personal.unseal(tenant, ticket.title),
            status=ticket.status,
            priority=ticket.priority,
            requester_name=profile.name if profile and not profile.erased else None,
            agent_name=agent_name,
            sla_due=self._next_due(tenant, ticket_id),
            kb_base=self.portal.replace("{tenant}", tenant) if self.portal else None,
        )
        return MacroUse(
            macro_id=str(macro.id),
            version=macro.version,
            title=macro.spec["title"],
            language=chosen,
            text=render_body(bodies, chosen, ticket_context(facts)),
            public=macro.spec["visibility"] == Visibility.PUBLIC,
            actions=Actions.of(macro.spec["actions"]),
        )

    def _next_due(self, tenant: str, ticket_id: UUID) -> datetime | None:
        """The soonest due instant of the ticket's running SLA targets, as intake last heard it."""
        if self.sla is None:
            return None
        targets: dict[str, Any] = self.sla.of(tenant, ticket_id)
        dues = [_instant(row["due_at"]) for row in targets.values() if row["state"] == "running" and row["due_at"]]
        return min(dues) if dues else None


def _instant(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
