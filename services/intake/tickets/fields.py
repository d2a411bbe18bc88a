"""A tenant's custom ticket fields: their definitions, and checking values against them. Pure."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid


class FieldKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    CHOICE = "choice"


class CustomFieldError(ValueError):
    """A custom field value that its definition refuses; `key` names the field."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"custom_fields.{key}: {message}")
        self.key = key
        self.message = message


class TenantFields(Aggregate):
    """The custom fields a tenant's tickets carry. Retired fields stay known to history."""

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_uuid("fields", tenant)

    @event("Started")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.fields: dict[str, dict[str, Any]] = {}

    @event("FieldDefined")
    def define(self, key: str, label: str, kind: str, required: bool, choices: list[str], actor: str) -> None:
        self.fields = self.fields | {
            key: {"label": label, "kind": kind, "required": required, "choices": list(choices), "retired": False}
        }

    @event("FieldRetired")
    def retire(self, key: str, actor: str) -> None:
        self.fields = self.fields | {key: self.fields[key] | {"retired": True}}

    def active(self) -> dict[str, dict[str, Any]]:
        return {key: spec for key, spec in self.fields.items() if not spec["retired"]}

    def check(self, values: dict[str, Any], *, complete: bool) -> dict[str, Any]:
        """Values checked and normalised; with `complete`, every required field must be present."""
        active = self.active()
        checked = {}
        for key, value in values.items():
            if key not in active:
                raise CustomFieldError(key, "no such field for this tenant")
            checked[key] = _checked(key, active[key], value)
        if complete:
            for key, spec in active.items():
                if spec["required"] and key not in checked:
                    raise CustomFieldError(key, "is required")
        return checked

    def kinds_of(self, values: dict[str, Any]) -> dict[str, str]:
        """The kind of each field of `values` as defined now (recorded with them: a field may be redefined)."""
        return {key: str(self.fields[key]["kind"]) for key in values if key in self.fields}


PUBLIC_KINDS = frozenset({FieldKind.CHOICE, FieldKind.NUMBER, FieldKind.BOOLEAN})  # hold no personal data


def public_values(values: dict[str, Any], kinds: dict[str, str] | None) -> dict[str, Any]:
    """The values of `values` that may go on a public event: of a kind recorded (`kinds`) as one that cannot hold
    personal data. A value whose kind was not recorded is never public."""
    known = kinds or {}
    return {key: value for key, value in values.items() if known.get(key) in PUBLIC_KINDS}


def _checked(key: str, spec: dict[str, Any], value: Any) -> Any:
    kind = FieldKind(spec["kind"])
    if kind is FieldKind.TEXT and isinstance(value, str) and len(value) <= 2000:
        return value
    if kind is FieldKind.NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if kind is FieldKind.BOOLEAN and isinstance(value, bool):
        return value
    if kind is FieldKind.DATE and isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise CustomFieldError(key, "must be a date (YYYY-MM-DD)") from None
    if kind is FieldKind.CHOICE and value in spec["choices"]:
        return value
    expected = f"one of {spec['choices']}" if kind is FieldKind.CHOICE else f"a {kind.value}"
    raise CustomFieldError(key, f"must be {expected}")
