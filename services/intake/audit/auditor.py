"""The audit: signed checkpoints of every stream's head, and verification of the store against them.

The checkpointer reads the notification log after the newest checkpoint's position (kept in the
checkpoint itself, so a restart resumes there and two replicas racing for one checkpoint leave one:
the checkpoint stream's optimistic concurrency refuses the other), a page at a time, and records one
checkpoint per page that changed anything. It never touches the write path: it reads what is
committed and appends its own small event. The relay publishes each checkpoint on
`intake.checkpoints`, a copy outside the database.

Verification walks the events (one ticket's, or the store's) with the keyed seals and ticket chains
of services/intake/audit/chain.py and the heads of the newest genuine checkpoints (services/intake/audit/anchors.py:
each checked before use), and names every stream's first missing, altered or extra event, and the
checkpoint stream's own first problem, in every verification (a tenant's too: it is the desk's).

Where sealing began: the first checkpoint records it (`SealingBegan`: the store's first sealed event,
or the position after the last event when none was sealed yet), and every event from there on must
carry the desk's seal. Without that record (the desk has not checkpointed yet, or the checkpoints were
deleted) the store's first sealed event stands in for it, and a store whose first sealed event is
older than two checkpoint intervals yet holds no checkpoint is itself a problem, "checkpoints
missing": checkpoints are taken every interval, so none there means someone removed them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent

from services.chassis.storage.processing import stream_positions
from services.intake.audit import chain
from services.intake.audit.anchors import Anchor, Anchors, CheckpointStream
from services.intake.audit.chain import AuditWalker, BrokenLink, Head
from services.intake.audit.checkpoints import Checkpoints
from services.intake.audit.sealing import SealingMapper

__all__ = ["Anchor", "Audit", "Verification"]

PAGE = 1000  # notifications a checkpoint covers at most (its heads stay well under a Kafka record's limit)
ATTEMPTS = 10
MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Verification:
    checked: int
    problems: list[BrokenLink]
    checkpoint: Anchor | None = None

    @property
    def broken(self) -> BrokenLink | None:
        """The first problem found, or None when the history is intact."""
        return self.problems[0] if self.problems else None


class Audit:
    def __init__(self, app: Application[UUID], page: int = PAGE, checkpoint_seconds: float | None = None) -> None:
        """`checkpoint_seconds`: how often the desk checkpoints; None: "checkpoints missing" is never told."""
        self.app = app
        self.page = page
        self.mapper = cast(SealingMapper, app.mapper)
        self.stream_id = Checkpoints.create_id()
        self.checkpoints = CheckpointStream(self.mapper, app.recorder, self.stream_id)
        self.grace = None if checkpoint_seconds is None else timedelta(seconds=2 * checkpoint_seconds)

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
        newest = {n.originator_id: n for n in notifications if n.originator_id != self.stream_id}  # the last wins
        heads = {str(stream): self._head(n) for stream, n in newest.items()}  # one digest a stream, not an event
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
            first = self._first_sealed()
            started = Checkpoints()
            started.sealing_began(first[0] if first else (self.app.recorder.max_notification_id() or 0) + 1)
            return started
        assert isinstance(log, Checkpoints)
        return log

    def _newest(self) -> Anchor | None:
        for recorded in self.app.events.get(self.stream_id, desc=True, limit=1):
            if isinstance(recorded, Checkpoints.Recorded):
                return Anchor(recorded.originator_version, recorded.position, recorded.timestamp)
        return None

    # -- verification --------------------------------------------------------------

    def verify(self, ticket_id: UUID | None = None, tenant: str | None = None) -> Verification:
        """Walk one ticket's stream (with its newest genuine checkpointed head) or every stream of the
        store (of `tenant`, when given: the events that name it; with every checkpoint)."""
        if ticket_id is not None:
            return self._verify_stream(ticket_id)
        anchors = self.checkpoints.fold()
        walker, problems = self._walker(anchors)
        for stored in self._notifications():
            if stored.originator_id == self.stream_id:
                continue  # checked, checkpoint by checkpoint, by the fold
            state = self.mapper.decoded(stored)
            if tenant is None or state.get("tenant") == tenant:
                walker.feed(str(stored.originator_id), stored.topic, stored.originator_version, state, stored.id)
        in_scope = [s for s, head in (anchors.heads or {}).items() if tenant is None or head.tenant == tenant]
        problems += walker.finish(in_scope)
        return Verification(walker.checked + anchors.checked, problems[:MAX_PROBLEMS], anchors.newest)

    def _verify_stream(self, stream_id: UUID) -> Verification:
        anchors = self.checkpoints.naming(str(stream_id))
        walker, problems = self._walker(anchors)
        events = [(stored, self.mapper.decoded(stored)) for stored in self.app.recorder.select_events(stream_id)]
        unsealed = any(chain.SEAL not in state for _, state in events)
        positions = stream_positions(self.app, stream_id) if unsealed else {}
        for stored, state in events:
            version = stored.originator_version
            walker.feed(str(stream_id), stored.topic, version, state, positions.get(version))
        problems += walker.finish([str(stream_id)])
        return Verification(walker.checked, problems[:MAX_PROBLEMS], anchors.newest)

    def _walker(self, anchors: Anchors) -> tuple[AuditWalker, list[BrokenLink]]:
        """A walker for what `anchors` says, and the problems of the audit itself: the checkpoint
        stream's first one, and "checkpoints missing"."""
        problems = [anchors.problem] if anchors.problem else []
        sealed_from = anchors.sealed_from
        if sealed_from is None or anchors.newest is None:
            first = self._first_sealed()
            sealed_from = sealed_from if sealed_from is not None else (first[0] if first else None)
            if anchors.newest is None and first and self.grace and datetime.now(UTC) - first[1] > self.grace:
                since = f"{first[1]:%Y-%m-%d %H:%M:%S} UTC"
                problems.append(BrokenLink(str(self.stream_id), 1, f"checkpoints missing: sealed since {since}, none"))
        return AuditWalker(self.mapper.key, anchors.heads, sealed_from), problems

    def _first_sealed(self) -> tuple[int, datetime] | None:
        """The store position and time of the first sealed event, if any."""
        for stored in self._notifications():
            state = self.mapper.decoded(stored)
            if chain.SEAL in state:
                return stored.id, state["timestamp"]
        return None

    def _notifications(self) -> Iterator[Notification]:
        start = 1
        while notifications := self.app.recorder.select_notifications(start, PAGE):
            yield from notifications
            start = notifications[-1].id + 1
