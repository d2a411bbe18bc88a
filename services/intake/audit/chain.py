"""Tamper evidence: every ticket event carries the hash of the one before it, every stored event
a keyed seal, and signed checkpoints anchor each stream's head. Pure functions: no I/O here.

An event's hash covers its type and its stored state (everything but the hash and the seal), so
editing a stored event breaks its own hash, and rewriting that hash too breaks the link from the
next event. Anyone can recompute plain hashes, so the desk also seals every event it stores: an
HMAC-SHA256, under a secret the database does not hold, of the event's stream, version, type and
state. A checkpoint records, signed, each stream's head (version and content digest) as of a
store position, so a stream cut short, rewritten or deleted differs from the checkpoint.

Events stored before sealing began carry no seal; they are accepted while they come before the
position where sealing began (services/intake/audit/auditor.py says how that is known), no sealed event
comes before them in their stream, and a checkpoint covers them (or the desk never checkpointed yet).
An unsealed event from that position on was not stored by the desk, checkpoints or none.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

GENESIS = "0" * 64
HASH = "event_hash"
PREVIOUS = "previous_hash"
SEAL = "audit_seal"
_UNHASHED = {HASH, SEAL, "class_version"}
_UNSEALED = {SEAL, "class_version", "originator_id", "originator_version"}


def digest(topic: str, state: Mapping[str, Any]) -> str:
    """The hash of one ticket event: its topic and its state, canonically serialised."""
    canonical = {key: value for key, value in state.items() if key not in _UNHASHED}
    return _sha256([topic, canonical])


def content_digest(originator_id: object, version: int, topic: str, state: Mapping[str, Any]) -> str:
    """What a seal and a checkpoint vouch for: the stream, the version, the type and the state."""
    canonical = {key: value for key, value in state.items() if key not in _UNSEALED}
    return _sha256([str(originator_id), version, topic, canonical])


def seal(key: bytes, content: str) -> str:
    """The desk's keyed seal of a content digest."""
    return hmac.new(key, content.encode(), hashlib.sha256).hexdigest()


def sealed_by(key: bytes, content: str, claimed: object) -> bool:
    return isinstance(claimed, str) and hmac.compare_digest(seal(key, content), claimed)


class Head(NamedTuple):
    """A stream's head as a checkpoint records it."""

    version: int
    hash: str  # content digest of the event at `version`
    tenant: str  # "" for a stream whose events name no tenant


def sign_checkpoint(key: bytes, position: int, previous: str, heads: Mapping[str, Head]) -> str:
    """The signature of a checkpoint: its store position, the signature before it and its heads."""
    ordered = sorted((stream, *head) for stream, head in heads.items())
    return seal(key, _sha256([position, previous, ordered]))


def _sha256(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    """Where a stream's chain breaks, and why."""

    originator_id: str
    version: int
    reason: str


@dataclass
class _Stream:
    version: int = 0
    hash: str = GENESIS  # a ticket's chain head
    sealed: bool = False  # a sealed event came before
    broken: bool = False  # the first problem is reported; the rest of the stream is not judged


@dataclass
class AuditWalker:
    """Checks events stream by stream as they come, in store order, against the desk's key and the
    heads of the newest checkpoints (None: the desk never checkpointed) and the position where
    sealing began (None: no event was sealed yet); collects every stream's first problem."""

    key: bytes
    anchored: Mapping[str, Head] | None
    sealed_from: int | None = None
    checked: int = 0
    problems: list[BrokenLink] = field(default_factory=list)
    streams: dict[str, _Stream] = field(default_factory=dict)

    def feed(
        self, originator_id: str, topic: str, version: int, state: Mapping[str, Any], position: int | None
    ) -> None:
        """One event; `position`: its store position (None: unknown, taken as after sealing began)."""
        stream = self.streams.setdefault(originator_id, _Stream())
        self.checked += 1
        if stream.broken:
            return
        reason = self._problem(stream, originator_id, topic, version, state, position)
        if reason is not None:
            stream.broken = True
            self.problems.append(BrokenLink(originator_id, version, reason))
            return
        stream.version = version
        stream.hash = state.get(HASH, GENESIS)
        stream.sealed = stream.sealed or SEAL in state

    def finish(self, streams: Iterable[str]) -> list[BrokenLink]:
        """Every problem, and each of `streams` (anchored ones in scope) cut short or missing."""
        for stream_id in streams:
            head = (self.anchored or {}).get(stream_id)
            seen = self.streams.get(stream_id)
            if head is None or (seen is not None and (seen.broken or seen.version >= head.version)):
                continue
            if seen is None:
                reason = f"the stream is missing: a checkpoint recorded it at version {head.version}"
                self.problems.append(BrokenLink(stream_id, 1, reason))
            else:
                reason = (
                    f"version {seen.version + 1} is missing: a checkpoint recorded the stream at version {head.version}"
                )
                self.problems.append(BrokenLink(stream_id, seen.version + 1, reason))
        return self.problems

    def _problem(
        self,
        stream: _Stream,
        originator_id: str,
        topic: str,
        version: int,
        state: Mapping[str, Any],
        position: int | None,
    ) -> str | None:
        if version != stream.version + 1:
            return f"version {stream.version + 1} is missing"
        if HASH in state:  # a ticket event: its own chain first
            if (state.get("metadata") or {}).get(PREVIOUS) != stream.hash:
                return "previous_hash does not match the event before"
            if state[HASH] != digest(topic, {**state, "originator_id": originator_id, "originator_version": version}):
                return "the event's content does not match its hash"
        content = content_digest(originator_id, version, topic, state)
        head = (self.anchored or {}).get(originator_id)
        if head is not None and head.version == version and head.hash != content:
            return "the event differs from the one a checkpoint recorded (rewritten)"
        if SEAL in state:
            return None if sealed_by(self.key, content, state[SEAL]) else "the event's seal is not the desk's"
        sealing = self.sealed_from is not None and (position is None or position >= self.sealed_from)
        if sealing or stream.sealed or (self.anchored is not None and (head is None or version > head.version)):
            return "the event carries no seal: it was not stored by the desk"
        return None
