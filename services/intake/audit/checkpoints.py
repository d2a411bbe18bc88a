"""The audit checkpoints: one stream of signed records of every other stream's head. Pure: no I/O here.

Each checkpoint covers the store positions after the one before it, up to its own `position`, and
names the head (version, content digest, tenant) of every stream that changed in them; it is signed
with the desk's audit key (by the application) and chained to the checkpoint before by that
signature, so the newest checkpoint of a stream says where its history had got to.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid
from services.intake.audit.chain import GENESIS


class CheckpointError(Exception):
    """A checkpoint that does not follow the one before it."""


class Checkpoints(Aggregate):
    """The desk's one stream of checkpoints."""

    @staticmethod
    def create_id() -> UUID:
        return stable_uuid("intake", "audit-checkpoints")

    @event("Started")
    def __init__(self) -> None:
        self.position = 0
        self.signature = GENESIS

    class SealingBegan(Aggregate.Event):
        position: int

    @event(SealingBegan)
    def sealing_began(self, position: int) -> None:
        """Every event the store holds from `position` on is sealed (recorded once, right after the
        stream starts: see services/intake/audit/anchors.py)."""
        if self.position:
            raise CheckpointError("sealing began before the first checkpoint")

    class Recorded(Aggregate.Event):
        position: int
        previous: str
        heads: dict[str, list[Any]]  # stream id -> [version, content digest, tenant]
        signature: str

    @event(Recorded)
    def record(self, position: int, previous: str, heads: dict[str, list[Any]], signature: str) -> None:
        """`heads`: stream id -> [version, content digest, tenant]."""
        if position <= self.position or previous != self.signature:
            raise CheckpointError(f"a checkpoint at {position} does not follow the one at {self.position}")
        self.position = position
        self.signature = signature
