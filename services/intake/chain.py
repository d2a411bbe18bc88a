"""Tamper evidence: every ticket event carries the hash of the one before it.

An event's hash covers its type and its stored state (everything but the hash
itself), so editing a stored event breaks its own hash, and rewriting that hash
too breaks the link from the next event. Pure functions: no I/O here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HASH = "event_hash"
PREVIOUS = "previous_hash"
_UNHASHED = {HASH, "class_version"}


def digest(topic: str, state: Mapping[str, Any]) -> str:
    """The hash of one event: its topic and its state, canonically serialised."""
    canonical = {key: value for key, value in state.items() if key not in _UNHASHED}
    text = json.dumps([topic, canonical], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    """Where a stream's chain breaks, and why."""

    originator_id: str
    version: int
    reason: str


class ChainWalker:
    """Checks events stream by stream as they come, in store order; remembers each stream's head."""

    def __init__(self) -> None:
        self.heads: dict[str, tuple[str, int]] = {}
        self.checked = 0

    def feed(self, originator_id: str, topic: str, version: int, state: Mapping[str, Any]) -> BrokenLink | None:
        previous, last_version = self.heads.get(originator_id, (GENESIS, 0))
        self.checked += 1
        if version != last_version + 1:
            return BrokenLink(originator_id, version, f"version {last_version + 1} is missing")
        metadata = state.get("metadata") or {}
        if metadata.get(PREVIOUS) != previous:
            return BrokenLink(originator_id, version, "previous_hash does not match the event before")
        if state.get(HASH) != digest(topic, state):
            return BrokenLink(originator_id, version, "the event's content does not match its hash")
        self.heads[originator_id] = (state[HASH], version)
        return None


def first_break(originator_id: str, events: Iterable[tuple[str, int, Mapping[str, Any]]]) -> BrokenLink | None:
    """Walk one stream's (topic, version, stored state) in version order; None when it is intact."""
    walker = ChainWalker()
    for topic, version, state in events:
        if (broken := walker.feed(originator_id, topic, version, state)) is not None:
            return broken
    return None
