"""The audit: signed checkpoints of every stream's head, and verification of the store against them.

The checkpointer reads the notification log after the newest checkpoint's position (kept in the
checkpoint itself, so a restart resumes there and two replicas racing for one checkpoint leave one:
the checkpoint stream's optimistic concurrency refuses the other), a page at a time, and records one
checkpoint per page that changed anything. It never touches the write path: it reads what is
committed and appends its own small event. The relay publishes each checkpoint on
`intake.checkpoints`, a copy outside the database.

Verification walks the events (one ticket's, or the store's) with the keyed seals and ticket chains
of services/intake/audit/chain.py and the heads of the newest checkpoints, and names every stream's first
missing, altered or extra event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, StoredEvent

from services.intake.audit import chain
from services.intake.audit.chain import AuditWalker, BrokenLink, Head
from services.intake.audit.checkpoints import Checkpoints
from services.intake.audit.sealing import SealingMapper

PAGE = 1000  # notifications a checkpoint covers at most (its heads stay well under a Kafka record's limit)
ATTEMPTS = 10
MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Anchor:
    """The newest checkpoint verification compared the store with."""

    sequence: int  # its version in the checkpoint stream
    position: int  # the store position it covers up to
    taken_at: datetime


@dataclass(frozen=True)
class Verification:
    checked: int
    problems: list[BrokenLink]
    checkpoint: Anchor | None = None

    @property
    def broken(self) -> BrokenLink | None:
        """The first problem found, or None when the history is intact."""
        return self.problems[0] if self.problems else None


@dataclass
class _Fold:
    heads: dict[str, Head] | None = None  # None: no checkpoint yet
    anchor: Anchor | None = None
    problem: BrokenLink | None = None


class Audit:
    def __init__(self, app: Application[UUID], page: int = PAGE) -> None:
        self.app = app
        self.page = page
        self.mapper = cast(SealingMapper, app.mapper)
        self.stream_id = Checkpoints.create_id()

    # -- checkpoints ---------------------------------------------------------------

    def checkpoint(self) -> Anchor | None:
        """Record checkpoints until every committed event is covered; the newest checkpoint."""
        for _ in range(ATTEMPTS):
            try:
                while self._take():
                    pass
            except IntegrityError:  # another replica recorded this one: read on from it
                continue
            return self._newest()
        raise RuntimeError("could not record a checkpoint: too much contention")

    def _take(self) -> bool:
        log = self._log()
        notifications = self.app.recorder.select_notifications(log.position + 1, self.page)
        heads = {str(n.originator_id): self._head(n) for n in notifications if n.originator_id != self.stream_id}
        if not heads:
            return False
        position = notifications[-1].id
        signature = chain.sign_checkpoint(self.mapper.key, position, log.signature, heads)
        log.record(position, log.signature, {stream: list(head) for stream, head in heads.items()}, signature)
        self.app.save(log)
        return True

    def _head(self, stored: StoredEvent) -> Head:
        state = self.mapper.decoded(stored)
        content = chain.content_digest(stored.originator_id, stored.originator_version, stored.topic, state)
        return Head(stored.originator_version, content, str(state.get("tenant") or ""))

    def _log(self) -> Checkpoints:
        try:
            log: object = self.app.repository.get(self.stream_id)
        except AggregateNotFoundError:
            return Checkpoints()
        assert isinstance(log, Checkpoints)
        return log

    def _newest(self) -> Anchor | None:
        for recorded in self.app.events.get(self.stream_id, desc=True, limit=1):
            return _anchor(recorded)
        return None

    # -- verification --------------------------------------------------------------

    def verify(self, ticket_id: UUID | None = None, tenant: str | None = None) -> Verification:
        """Walk one ticket's stream (with its newest checkpointed head) or every stream of the store (of
        `tenant`, when given; with every checkpoint, their signatures checked in order)."""
        if ticket_id is not None:
            return self._verify_stream(ticket_id)
        fold = self._fold()
        walker = AuditWalker(self.mapper.key, fold.heads)
        for stored in self._notifications():
            state = self.mapper.decoded(stored)
            if tenant is None or state.get("tenant") == tenant:
                walker.feed(str(stored.originator_id), stored.topic, stored.originator_version, state)
        in_scope = [s for s, head in (fold.heads or {}).items() if tenant is None or head.tenant == tenant]
        problems = ([fold.problem] if fold.problem and tenant is None else []) + walker.finish(in_scope)
        return Verification(walker.checked, problems[:MAX_PROBLEMS], fold.anchor)

    def _verify_stream(self, stream_id: UUID) -> Verification:
        heads, anchor = self._newest_head(str(stream_id))
        walker = AuditWalker(self.mapper.key, heads)
        for stored in self.app.recorder.select_events(stream_id):
            walker.feed(str(stream_id), stored.topic, stored.originator_version, self.mapper.decoded(stored))
        return Verification(walker.checked, walker.finish([str(stream_id)])[:MAX_PROBLEMS], anchor)

    def _newest_head(self, stream: str) -> tuple[dict[str, Head] | None, Anchor | None]:
        """The stream's head in the newest checkpoint naming it (read newest first), and the newest
        checkpoint; ({}, …) when checkpoints exist but none names it, (None, None) when none exist."""
        newest: Anchor | None = None
        for recorded in self.app.events.get(self.stream_id, desc=True):
            if not isinstance(recorded, Checkpoints.Recorded):
                break
            newest = newest or _anchor(recorded)
            if (head := recorded.heads.get(stream)) is not None:
                return {stream: Head(*head)}, newest
        return ({} if newest else None), newest

    def _fold(self) -> _Fold:
        """Every checkpoint in order, each signature checked against the one before; the newest head of
        each stream, up to the first checkpoint that is not the desk's."""
        fold = _Fold()
        previous = chain.GENESIS
        for recorded in self.app.events.get(self.stream_id):
            if not isinstance(recorded, Checkpoints.Recorded):
                continue
            event: Any = recorded
            heads = {stream: Head(*head) for stream, head in event.heads.items()}
            expected = chain.sign_checkpoint(self.mapper.key, event.position, previous, heads)
            if event.previous != previous or event.signature != expected:
                reason = "the checkpoint's signature is not the desk's, or it does not follow the one before"
                fold.problem = BrokenLink(str(self.stream_id), event.originator_version, reason)
                break
            fold.heads = (fold.heads or {}) | heads
            fold.anchor = _anchor(event)
            previous = event.signature
        return fold

    def _notifications(self) -> Iterator[StoredEvent]:
        start = 1
        while notifications := self.app.recorder.select_notifications(start, PAGE):
            yield from notifications
            start = notifications[-1].id + 1


def _anchor(recorded: Any) -> Anchor | None:
    if not isinstance(recorded, Checkpoints.Recorded):
        return None
    event: Any = recorded
    return Anchor(event.originator_version, event.position, event.timestamp)
