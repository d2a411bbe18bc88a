"""A tenant's saved views: named filters, columns and order of the ticket list. Pure.

A personal view is its owner's alone (to everyone else it does not exist); a shared view is listed
for the tenant's staff. Any of the staff may share a view of their own (a team's views are its
agents' tools); a shared view is changed or deleted by its owner, or by a supervisor or an admin,
who keep the team's list tidy. Every event names its actor.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.runtime.errors import UnknownThingError
from services.chassis.storage.ids import stable_uuid


class ViewRefusedError(Exception):
    """The actor may see the view but not change it (someone else's shared view)."""


class SavedViews(Aggregate):
    """One tenant's saved views, by id."""

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_uuid("saved-views", tenant)

    @event("Started")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.views: dict[str, dict[str, Any]] = {}

    def visible_to(self, subject: str) -> list[dict[str, Any]]:
        """The views `subject` may use: their own and the shared ones, by name."""
        found = [v for v in self.views.values() if v["owner"] == subject or v["shared"]]
        return sorted(found, key=lambda v: (v["name"].lower(), v["id"]))

    def view(self, view_id: str, subject: str) -> dict[str, Any]:
        found = self.views.get(view_id)
        if found is None or not (found["owner"] == subject or found["shared"]):
            raise UnknownThingError(f"no view {view_id} for this person", field="view_id")
        return found

    def save(self, view_id: str, spec: dict[str, Any], actor: str, *, tidies: bool) -> bool:
        """Save a new view of `actor`'s, or change one they may change (`tidies`: a supervisor's or admin's
        right over shared views); True when the view is new."""
        if view_id not in self.views:
            self._saved(view_id, spec, actor)
            return True
        self._may_change(view_id, actor, tidies)
        self._changed(view_id, spec, actor)
        return False

    def delete(self, view_id: str, actor: str, *, tidies: bool) -> None:
        self._may_change(view_id, actor, tidies)
        self._deleted(view_id, actor)

    def _may_change(self, view_id: str, actor: str, tidies: bool) -> None:
        found = self.view(view_id, actor)
        if found["owner"] != actor and not tidies:
            raise ViewRefusedError(f"view {view_id} is {found['owner']}'s: a supervisor or admin may change it")

    @event("ViewSaved")
    def _saved(self, view_id: str, spec: dict[str, Any], actor: str) -> None:
        self.views = self.views | {view_id: {"id": view_id, "owner": actor, **spec}}

    @event("ViewChanged")
    def _changed(self, view_id: str, spec: dict[str, Any], actor: str) -> None:
        self.views = self.views | {view_id: self.views[view_id] | spec}

    @event("ViewDeleted")
    def _deleted(self, view_id: str, actor: str) -> None:
        self.views = {key: view for key, view in self.views.items() if key != view_id}
