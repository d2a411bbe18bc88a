"""A tenant's activity types for time entries (support, travel, development...): defined and retired by an
admin; an entry names one that is active. Pure."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid


class TenantActivityTypes(Aggregate):
    """The activity types a tenant's time entries name. Retired ones stay known to history and reports."""

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_uuid("activity-types", tenant)

    @event("Started")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.types: dict[str, dict[str, Any]] = {}

    @event("ActivityTypeDefined")
    def define(self, key: str, label: str, billable: bool, actor: str) -> None:
        """`billable`: whether an entry of this type is billable unless it says otherwise."""
        self.types = self.types | {key: {"label": label, "billable": billable, "retired": False}}

    @event("ActivityTypeRetired")
    def retire(self, key: str, actor: str) -> None:
        self.types = self.types | {key: self.types[key] | {"retired": True}}

    def active(self) -> dict[str, dict[str, Any]]:
        return {key: spec for key, spec in self.types.items() if not spec["retired"]}
