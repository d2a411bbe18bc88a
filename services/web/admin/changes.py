"""Who changed an ordered admin list and how: the newest changes the API records with their admin, as
the screen of that list shows them under it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.web.i18n import gettext_ as _

# The API's name of each change (services/chassis/domain/admin_changes.py) in the person's words.
CHANGES: dict[str, Callable[[], str]] = {
    "rule_added": lambda: _("Added to the list"),
    "rule_changed": lambda: _("Changed in place"),
    "rule_retired": lambda: _("Deleted from the list"),
    "rules_reordered": lambda: _("Order changed"),
    "calendar_defined": lambda: _("Defined or changed"),
    "policy_defined": lambda: _("Defined or changed"),
    "policy_retired": lambda: _("Deleted from the list"),
    "policies_reordered": lambda: _("Order changed"),
}


@dataclass(frozen=True)
class ChangeLine:
    at: str
    by: str  # the admin; "" for a change recorded before admins were
    what: str
    entry: str | None  # the rule, calendar or policy; None for a new order


def lines(changes: list[dict[str, Any]]) -> list[ChangeLine]:
    return [
        ChangeLine(c["at"], c["by"], CHANGES[c["change"]]() if c["change"] in CHANGES else c["change"], c["id"])
        for c in changes
    ]
