"""The macros' commands, for intake's application: making, revising, retiring, and applying one to a ticket.

Applying a macro is one command on the ticket, one save: `Ticket.MacroApplied` first (which macro, which
version, in which language, what it does), then the reply and each action's own event, all with the
same cause (correlation id). Why a leading event rather than the macro's id in every event: the events
the actions record (`ticket.priority_changed`, `ticket.status_changed`...) are published contracts, and a
published event is never edited; a new version of each to carry a field most of them never use would
make every consumer upcast for nothing. One new event says it all, and a consumer that cares (analytics'
usage per macro, later the triggers' loop protection) reads it, then joins the rest by correlation id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.chassis.runtime.errors import UnknownThingError
from services.chassis.storage.processing import find
from services.intake.macros.actions import Actions, run_actions
from services.intake.macros.domain import Caller, Macro, MacroShelf, Scope
from services.intake.macros.texts import check_bodies
from services.intake.tickets.cause import Cause
from services.intake.tickets.changing import TicketChanges
from services.intake.tickets.domain import Ticket
from services.intake.tickets.work import StaleVersionError


@dataclass(frozen=True)
class MacroUse:
    """A macro rendered for one ticket: what applying it records (applying.py prepares it)."""

    macro_id: str
    version: int
    title: str
    language: str
    text: str
    public: bool
    actions: Actions


class MacroCommands(TicketChanges):
    def create_macro(self, tenant: str, scope: Scope, spec: dict[str, Any], caller: Caller) -> Macro:
        Macro.check_may_make(scope, caller)
        spec = self._checked_spec(tenant, spec)
        macro = Macro(tenant=tenant, scope=scope.value, owner=caller.subject, spec=spec)
        shelf = self._shelf(tenant)
        shelf.shelve(str(macro.id))
        self.save(macro, shelf)
        return macro

    def revise_macro(
        self, tenant: str, macro_id: UUID, spec: dict[str, Any], caller: Caller, expected_version: int | None
    ) -> Macro:
        macro = self._current(tenant, macro_id, caller, expected_version)
        macro.revise(self._checked_spec(tenant, spec), caller)
        self.save(macro)
        return macro

    def retire_macro(self, tenant: str, macro_id: UUID, caller: Caller, expected_version: int | None) -> Macro:
        macro = self._current(tenant, macro_id, caller, expected_version)
        macro.retire(caller)
        self.save(macro)
        return macro

    def macro(self, tenant: str, macro_id: UUID, caller: Caller) -> Macro:
        """The macro as the caller may see it (UnknownThingError: another tenant's, or someone's personal one)."""
        try:
            macro: object = self.repository.get(macro_id)
        except AggregateNotFoundError:
            raise UnknownThingError(f"no macro {macro_id} for this tenant", field="macro_id") from None
        if not isinstance(macro, Macro) or macro.tenant != tenant:
            raise UnknownThingError(f"no macro {macro_id} for this tenant", field="macro_id")
        macro.check_seen_by(caller)
        return macro

    def macros_of(self, tenant: str, caller: Caller) -> list[Macro]:
        """The macros the caller may use, in the order they were made (a tenant has tens, not thousands:
        read from the aggregate cache, not a projection)."""
        macros: list[object] = [self.repository.get(UUID(macro_id)) for macro_id in self._shelf(tenant).macro_ids]
        return [m for m in macros if isinstance(m, Macro) and m.usable_by(caller)]

    def macro_versions(self, tenant: str, macro_id: UUID, caller: Caller) -> list[Any]:
        """Every event of the macro, oldest first: each is a version."""
        self.macro(tenant, macro_id, caller)
        return list(self.events.get(macro_id))

    def apply_macro(self, ticket_id: UUID, cause: Cause, use: MacroUse, comment_id: str, version: int | None) -> Ticket:
        """The macro's reply and actions on the ticket: one command, one save, led by `MacroApplied`."""
        actions = use.actions.checked_by(self._fields(cause.tenant))
        reason, now = f"macro: {use.title}", datetime.now(UTC)

        def command(t: Ticket) -> None:
            t.record_macro(use.macro_id, use.version, use.language, comment_id, use.public, actions.summary())
            t.add_comment(comment_id, self._seal(t, use.text), use.public, cause.actor, "api", staff=True)
            run_actions(t, actions, reason, now, self._sealer(t.tenant, t.requester_id))

        return self._change(ticket_id, cause, command, version)

    def _checked_spec(self, tenant: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Its bodies render (MacroTextError naming the language) and its custom fields are the tenant's."""
        check_bodies(spec["body"])
        actions = spec["actions"]
        fields = self._fields(tenant).check(actions.get("custom_fields") or {}, complete=False)
        return spec | {"actions": actions | {"custom_fields": fields}}

    def _current(self, tenant: str, macro_id: UUID, caller: Caller, expected_version: int | None) -> Macro:
        macro = self.macro(tenant, macro_id, caller)
        if expected_version is not None and macro.version != expected_version:
            raise StaleVersionError(expected_version, macro.version)
        return macro

    def _shelf(self, tenant: str) -> MacroShelf:
        return find(self, MacroShelf.create_id(tenant), MacroShelf) or MacroShelf(tenant)
