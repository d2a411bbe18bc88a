"""A macro: a canned reply (a body per language) with actions, a tenant's shared one or an agent's own. Pure.

Every change is a new version of the macro (`Created`, `Revised`, `Retired`: its history, read as
`macro.created`...), and a ticket a macro changed names the version that did it. A personal macro is
its owner's alone (to anyone else it does not exist) and changed by them only; a shared one is used by
the staff of its groups (all the tenant's staff when it names none) and managed by supervisors and admins.
A retired macro stays readable by id, with its history, and is listed and applied no more.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.runtime.errors import CommandRefusedError, UnknownThingError
from services.chassis.storage.ids import stable_uuid


class Scope(StrEnum):
    SHARED = "shared"
    PERSONAL = "personal"


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class MacroRefusedError(Exception):
    """The caller may use the macro (or see it) but not change it."""


class MacroRetiredError(CommandRefusedError):
    """A retired macro is changed and applied no more."""


class Caller:
    """Who asks: their id, their groups, and whether they manage the tenant's shared macros."""

    def __init__(self, subject: str, groups: frozenset[str], manages: bool) -> None:
        self.subject, self.groups, self.manages = subject, groups, manages


class Macro(Aggregate):
    """One macro; `spec` is title, body (language → text), visibility, groups and actions."""

    @event("Created")
    def __init__(self, tenant: str, scope: str, owner: str, spec: dict[str, Any]) -> None:
        self.tenant = tenant
        self.scope = scope
        self.owner = owner
        self.spec = dict(spec)
        self.retired = False

    @staticmethod
    def check_may_make(scope: Scope, caller: Caller) -> None:
        if scope == Scope.SHARED and not caller.manages:
            raise MacroRefusedError("a shared macro is made by a supervisor or an admin")

    def usable_by(self, caller: Caller) -> bool:
        """Listed for and applied by the caller (retired ones are not)."""
        return not self.retired and self.seen_by(caller) and (caller.manages or self._in_groups(caller))

    def seen_by(self, caller: Caller) -> bool:
        """Readable by the caller at all: a personal macro by its owner, a shared one by the tenant's staff."""
        return self.scope == Scope.SHARED or self.owner == caller.subject

    def check_seen_by(self, caller: Caller) -> None:
        if not self.seen_by(caller):
            raise UnknownThingError(f"no macro {self.id} for this person", field="macro_id")

    def check_usable_by(self, caller: Caller) -> None:
        self.check_seen_by(caller)
        if self.retired:
            raise MacroRetiredError(f"macro {self.id} is retired", field="macro_id")
        if not self.usable_by(caller):
            raise MacroRefusedError(f"macro {self.id} is for the groups {self.spec['groups']} only")

    def revise(self, spec: dict[str, Any], caller: Caller) -> None:
        self._check_changes(caller)
        if spec != self.spec:
            self._revised(spec, caller.subject)

    def retire(self, caller: Caller) -> None:
        self._check_changes(caller)
        self._retired(caller.subject)

    def _check_changes(self, caller: Caller) -> None:
        self.check_seen_by(caller)
        if self.retired:
            raise MacroRetiredError(f"macro {self.id} is retired", field="macro_id")
        if self.scope == Scope.SHARED and not caller.manages:
            raise MacroRefusedError("a shared macro is managed by supervisors and admins")

    def _in_groups(self, caller: Caller) -> bool:
        groups = self.spec.get("groups") or []
        return self.scope == Scope.PERSONAL or not groups or bool(set(groups) & caller.groups)

    @event("Revised")
    def _revised(self, spec: dict[str, Any], actor: str) -> None:
        self.spec = dict(spec)

    @event("Retired")
    def _retired(self, actor: str) -> None:
        self.retired = True


class MacroShelf(Aggregate):
    """The ids of a tenant's macros, in the order they were made: what a list of them reads."""

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_uuid("macro-shelf", tenant)

    @event("Started")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.macro_ids: list[str] = []

    @event("Shelved")
    def shelve(self, macro_id: str) -> None:
        self.macro_ids = [*self.macro_ids, macro_id]
