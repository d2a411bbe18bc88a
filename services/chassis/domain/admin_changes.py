"""Changes an admin makes to a tenant's setup (routing rules, SLA calendars and policies), each recorded
with the admin as its actor, and the record of them the admin screens show.

`by` (the subject of the admin's token) joined these events as their version 2. A stored event is
never changed in place: one recorded before reads, through the upcaster, as by nobody ("").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from eventsourcing.domain import Aggregate

_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


class AdminChange(Aggregate.Event):
    """A change of a tenant's setup, with the admin who made it."""

    by: str

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("by", "")

    def names(self) -> str | None:
        """The entry it changed (a rule, a calendar, a policy); None for the whole list (a new order)."""
        return None


def change_name(event: AdminChange) -> str:
    """The change's name as the API gives it: `RuleAdded` -> `rule_added`."""
    return _WORD_START.sub("_", type(event).__name__).lower()


def admin_changes(events: Iterable[Any], kinds: tuple[type[AdminChange], ...], limit: int) -> list[dict[str, Any]]:
    """The newest `limit` of `events` (given newest first) that are of `kinds`: when, by whom, which change
    and of which entry."""
    found: list[dict[str, Any]] = []
    for event in events:
        if len(found) >= limit:
            break
        if isinstance(event, kinds):
            found.append({"at": event.timestamp, "by": event.by, "change": change_name(event), "id": event.names()})
    return found
