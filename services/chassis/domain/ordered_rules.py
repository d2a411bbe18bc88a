"""An ordered list of rules, tried first to last: added, changed in place, moved and retired.

Routing's rules and SLA's policies are both such lists, held on their setup aggregate as a
list of dicts (each named by its `key` field) and changed only by that aggregate's events.
This holds what they share: reading the list and the new list each change gives. Whether a
command is refused (adding a rule that exists, a new order that leaves one out) and with
which error stays with the aggregate, as do its event names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Entry = dict[str, Any]


@dataclass(frozen=True)
class OrderedRules:
    key: str  # the field that names an entry: "rule_id", "policy_id"

    def ids(self, entries: Sequence[Entry]) -> list[str]:
        return [entry[self.key] for entry in entries]

    def find(self, entries: Sequence[Entry], entry_id: str) -> Entry | None:
        return next((entry for entry in entries if entry[self.key] == entry_id), None)

    def added(self, entries: Sequence[Entry], entry: Entry) -> list[Entry]:
        """`entry` tried last."""
        return [*entries, entry]

    def changed(self, entries: Sequence[Entry], entry: Entry) -> list[Entry]:
        """`entry` in the place of the one it names."""
        return [entry if e[self.key] == entry[self.key] else e for e in entries]

    def defined(self, entries: Sequence[Entry], entry: Entry) -> list[Entry]:
        """`entry` changed in place if it is there, else added last."""
        if self.find(entries, entry[self.key]) is None:
            return self.added(entries, entry)
        return self.changed(entries, entry)

    def retired(self, entries: Sequence[Entry], entry_id: str) -> list[Entry]:
        return [entry for entry in entries if entry[self.key] != entry_id]

    def names_each_once(self, entries: Sequence[Entry], entry_ids: Sequence[str]) -> bool:
        """Whether `entry_ids` is an order of exactly these entries."""
        return sorted(entry_ids) == sorted(self.ids(entries))

    def moves(self, entries: Sequence[Entry], entry_ids: Sequence[str]) -> bool:
        """Whether the order `entry_ids` differs from the present one."""
        return list(entry_ids) != self.ids(entries)

    def reordered(self, entries: Sequence[Entry], entry_ids: Sequence[str]) -> list[Entry]:
        by_id = {entry[self.key]: entry for entry in entries}
        return [by_id[entry_id] for entry_id in entry_ids]
