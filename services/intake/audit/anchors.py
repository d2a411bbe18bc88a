"""The checkpoints verification anchors to, each checked before it is used.

A checkpoint's heads say where streams had got to; a forged one would vouch for a stream cut
short or rewritten. So each checkpoint is used only when its seal and its signature are the
desk's (neither can be made without the secret), and its link to the checkpoint before it is
checked too (`previous` is that one's signature, its position higher, its version the next): a
checkpoint forged, reordered or removed from between others is a problem of the checkpoint stream
itself, named in every verification, and the heads come from the genuine checkpoints only.

The stream also records, once, where sealing began (`Checkpoints.SealingBegan`, sealed like every
event): the store position from which every event is sealed, so no unsealed event after it is
taken for one stored before sealing (services/intake/audit/chain.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent
from eventsourcing.utils import get_topic

from services.intake.audit import chain
from services.intake.audit.chain import BrokenLink, Head
from services.intake.audit.checkpoints import Checkpoints
from services.intake.audit.sealing import SealingMapper

PAGE = 100
_RECORDED = get_topic(Checkpoints.Recorded)
_SEALING = get_topic(Checkpoints.SealingBegan)


@dataclass(frozen=True)
class Anchor:
    """The newest checkpoint verification compared the store with."""

    sequence: int  # its version in the checkpoint stream
    position: int  # the store position it covers up to
    taken_at: datetime


@dataclass
class Anchors:
    """What the genuine checkpoints say, and the checkpoint stream's first problem."""

    heads: dict[str, Head] | None = None  # None: no genuine checkpoint
    newest: Anchor | None = None
    sealed_from: int | None = None  # from SealingBegan; None when the stream does not record it
    problem: BrokenLink | None = None
    checked: int = 0


@dataclass(frozen=True)
class _Checkpoint:
    version: int
    topic: str
    state: dict[str, Any]

    @property
    def recorded(self) -> bool:
        return self.topic == _RECORDED

    def anchor(self) -> Anchor:
        return Anchor(self.version, int(self.state["position"]), self.state["timestamp"])

    def heads(self) -> dict[str, Head]:
        return {stream: Head(*head) for stream, head in self.state["heads"].items()}

    def follows(self, older: _Checkpoint | None) -> bool:
        """Whether this (a Recorded) is chained to `older` (None: nothing Recorded before it)."""
        if older is None:
            return bool(self.state["previous"] == chain.GENESIS)
        return bool(
            self.state["previous"] == older.state["signature"] and self.anchor().position > older.anchor().position
        )


class CheckpointStream:
    def __init__(self, mapper: SealingMapper, recorder: AggregateRecorder, stream_id: UUID) -> None:
        self.mapper = mapper
        self.recorder = recorder
        self.stream_id = stream_id

    def fold(self) -> Anchors:
        """Every checkpoint, oldest first: each stream's newest genuine head."""
        anchors = Anchors()
        older: _Checkpoint | None = None
        expected = 1
        for checkpoint in self._read(desc=False, anchors=anchors):
            if checkpoint.version != expected:
                self._note(anchors, expected, f"checkpoint {expected} is missing")
            expected = checkpoint.version + 1
            if checkpoint.topic == _SEALING and checkpoint.version == 2:
                anchors.sealed_from = int(checkpoint.state["position"])
            if not checkpoint.recorded:
                continue
            if not checkpoint.follows(older):
                self._note(anchors, checkpoint.version, _UNCHAINED)
            anchors.heads = (anchors.heads or {}) | checkpoint.heads()
            anchors.newest = checkpoint.anchor()
            older = checkpoint
        return anchors

    def naming(self, stream: str) -> Anchors:
        """The newest genuine checkpoint that names `stream`, read newest first, each checkpoint on
        the way checked and chained to the next older one (the one found too); and where sealing began."""
        anchors = self._sealing()
        newer: _Checkpoint | None = None
        found = False
        for checkpoint in self._read(desc=True, anchors=anchors):
            if newer is not None and checkpoint.version != newer.version - 1:
                self._note(anchors, newer.version - 1, f"checkpoint {newer.version - 1} is missing")
            if newer is not None and not newer.follows(checkpoint if checkpoint.recorded else None):
                self._note(anchors, newer.version, _UNCHAINED)
            if found or not checkpoint.recorded:
                break
            anchors.newest = anchors.newest or checkpoint.anchor()
            anchors.heads = anchors.heads or {}
            if (head := checkpoint.heads().get(stream)) is not None:
                anchors.heads = {stream: head}
                found = True
            newer = checkpoint
        return anchors

    def _sealing(self) -> Anchors:
        """Where sealing began, from the stream's second event."""
        anchors = Anchors()
        for checkpoint in self._read(desc=False, anchors=anchors, lte=2):
            if checkpoint.topic == _SEALING and checkpoint.version == 2:
                anchors.sealed_from = int(checkpoint.state["position"])
        return anchors

    def _read(self, *, desc: bool, anchors: Anchors, lte: int | None = None) -> Iterator[_Checkpoint]:
        """The stream's genuine events, a page at a time; each forged one noted and left out."""
        bound: int | None = None
        while events := self.recorder.select_events(
            self.stream_id,
            gt=None if desc else bound,
            lte=(bound - 1 if bound else lte) if desc else lte,
            desc=desc,
            limit=PAGE,
        ):
            for stored in events:
                anchors.checked += 1
                if (checkpoint := self._genuine(stored, anchors)) is not None:
                    yield checkpoint
            bound = events[-1].originator_version
            if len(events) < PAGE:
                return

    def _genuine(self, stored: StoredEvent, anchors: Anchors) -> _Checkpoint | None:
        state = self.mapper.decoded(stored)
        checkpoint = _Checkpoint(stored.originator_version, stored.topic, state)
        if self.mapper.problem(stored, state) is not None:
            self._note(anchors, checkpoint.version, _FORGED.format("seal"))
            return None
        if checkpoint.recorded:
            state = checkpoint.state
            signature = chain.sign_checkpoint(
                self.mapper.key, int(state["position"]), state["previous"], checkpoint.heads()
            )
            if state["signature"] != signature:
                self._note(anchors, checkpoint.version, _FORGED.format("signature"))
                return None
        return checkpoint

    def _note(self, anchors: Anchors, version: int, reason: str) -> None:
        """The checkpoint stream's first problem (its reason names no other stream)."""
        if anchors.problem is None:
            anchors.problem = BrokenLink(str(self.stream_id), version, reason)


_FORGED = "the checkpoint's {} is not the desk's: it was forged or altered"
_UNCHAINED = "the checkpoint does not follow the one before it: a checkpoint was removed or reordered"
