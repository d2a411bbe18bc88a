"""The saved views' commands, for intake's application (one method a command: get, command, save)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from services.chassis.storage.processing import find
from services.intake.views.domain import SavedViews


class ViewCommands(Application[UUID]):
    def save_view(self, tenant: str, view_id: str, spec: dict[str, Any], actor: str, *, tidies: bool) -> bool:
        """Create or change the view; True when it is new. `tidies`: the actor may change others' shared views."""
        views = self.saved_views(tenant)
        created = views.save(view_id, spec, actor, tidies=tidies)
        self.save(views)
        return created

    def delete_view(self, tenant: str, view_id: str, actor: str, *, tidies: bool) -> None:
        views = self.saved_views(tenant)
        views.delete(view_id, actor, tidies=tidies)
        self.save(views)

    def saved_views(self, tenant: str) -> SavedViews:
        return find(self, SavedViews.create_id(tenant), SavedViews) or SavedViews(tenant)
