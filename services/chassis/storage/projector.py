"""The worker that keeps a service's own read model up with its own store.

It follows the store's notification log from the view's tracked position, decodes
each batch and applies it with a tracking row per position, so a restart resumes
exactly where the last committed batch ended, and replicas never apply one event
twice. A store that is away is waited for, with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder

from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.pacing import sleep_unless
from services.chassis.runtime.retries import Backoff
from services.chassis.storage.views import Sql, SqlView
from services.chassis.storage.wake import Wake, store_commits

log = logging.getLogger(__name__)

# How long a projector goes on from the positions it applied itself instead of reading the view's (one query a
# step: a sixth of the routing api's CPU a ticket under load). Whatever else moves the view's position (a
# replica's batch, a rebuild's drop) is read within this long, or at once when a batch was recorded elsewhere.
TRUSTED_SECONDS = 1.0


class BatchProjection(Protocol):
    name: str  # its tracking rows' application name

    def position(self) -> int:
        """The last store position applied."""
        ...

    def apply(self, events: Sequence[tuple[Any, int]], tracking: Sequence[Tracking]) -> None:
        """Apply (domain event, position) pairs and their `tracking` rows in one transaction."""
        ...


class SqlProjection:
    """A BatchProjection into tables of its own (`schema`), one event at a time (`write`), each
    batch in one transaction with its tracking rows."""

    name: str  # its tracking rows' application name
    schema: Sequence[str]

    def __init__(self, recorder: TrackingRecorder) -> None:
        self.view = SqlView(recorder, self.schema)

    def position(self) -> int:
        return self.view.recorder.max_tracking_id(self.name) or 0

    def apply(self, events: Sequence[tuple[Any, int]], tracking: Sequence[Tracking]) -> None:
        with self.view.transaction(*tracking) as sql:
            for event, _ in events:
                self.write(sql, event)

    def write(self, sql: Sql, event: Any) -> None:
        """One stored event's effect on the tables (none for most)."""
        raise NotImplementedError


class StoreProjector:
    def __init__(
        self,
        app: Application[Any],
        projection: BatchProjection,
        batch_size: int = 500,
        idle_seconds: float = 1.0,
        topics: Sequence[str] = (),
    ) -> None:
        """A commit to the store wakes `run` (services/chassis/storage/wake.py); with nothing new it
        reads again after `idle_seconds` all the same. `topics`: the only stored events the projection
        applies, when it names them (the others are not read)."""
        self.app = app
        self.projection = projection
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.topics = topics
        self._known: int | None = None  # the view's position as this projector left it
        self._read_at = 0.0  # when the view's position was last read (time.monotonic())
        # With `topics`: the view's position is the last event of theirs it applied, and the store's head is
        # far past it when they are rare (the people index's, among every ticket's). Each read would walk the
        # log from that position to the head again (intake's api read 700 rows a command, 70,000 a second,
        # 600 tickets into a run). So the store's head as of the last read that found no more of them is kept,
        # and the next read starts after it: the log is read once. Kept here only (a restart reads from the
        # position once), and let go when the view's position goes back (a rebuild's drop).
        self._searched = 0
        self._highest = 0  # the highest position of the view this projector has known

    async def run(self, stopping: asyncio.Event) -> None:
        log.info("%s starts after position %d", self.projection.name, await asyncio.to_thread(self.projection.position))
        async with store_commits(self.app).follower(stopping) as wake:
            await self._follow(stopping, wake)

    async def _follow(self, stopping: asyncio.Event, wake: Wake) -> None:
        backoff = Backoff.for_store()
        while not stopping.is_set():
            try:
                applied = await asyncio.to_thread(self.step)
                backoff.succeeded()
                if applied < self.batch_size:  # caught up: a full batch is followed at once
                    await wake.wait(self.idle_seconds)
            except TRANSIENT_STORE_ERRORS as error:
                log.warning("%s: store unavailable, retrying: %r", self.projection.name, error)
                await sleep_unless(stopping, backoff.failed())

    def catch_up(self, trusted: bool = False) -> int:
        """Apply everything the store holds now; how many notifications were read. A batch short of
        `batch_size` was the last (no second read to find nothing more). It starts from the view's position
        as stored (a rebuild's drop just before included), or, `trusted`, as this projector left it within
        TRUSTED_SECONDS, as `run` does (a timer scheduler catches up at every step, many a second)."""
        if not trusted:
            self._known = None
            self._searched = 0
        total = 0
        while True:
            applied = self.step()
            total += applied
            if applied < self.batch_size:
                return total

    def step(self) -> int:
        """Apply the next batch after the view's position; how many notifications it held."""
        position = self._position()
        # The head first: an event is visible in the log only after every earlier one (each writer locks the
        # events table), so once the read below finds fewer than a batch, none of the topics' events is left
        # up to it.
        head = (self.app.recorder.max_notification_id() or 0) if self.topics else 0
        notifications = self.app.recorder.select_notifications(
            max(position, self._searched) + 1, self.batch_size, topics=self.topics
        )
        if not notifications:
            self._searched = max(self._searched, head)
            return 0
        events = [(self.app.mapper.to_domain_event(n), n.id) for n in notifications]
        self._known = None  # until this batch is recorded
        try:
            # A tracking row per position: a replica that applied any of these first makes this
            # batch fail whole, whatever its own batch boundaries were.
            self.projection.apply(events, [Tracking(self.projection.name, n.id) for n in notifications])
            self._known = self._highest = notifications[-1].id
            if len(notifications) < self.batch_size:
                self._searched = max(self._searched, head)
        except IntegrityError:
            # Another projector (a second replica) recorded some of this batch first: nothing of it
            # was written here, and the next step starts after what that one recorded.
            log.info(
                "%s: batch %d-%d applied elsewhere", self.projection.name, notifications[0].id, notifications[-1].id
            )
        return len(notifications)

    def _position(self) -> int:
        """The view's position: as this projector left it, within TRUSTED_SECONDS of reading it, else read."""
        if self._known is not None and time.monotonic() - self._read_at < TRUSTED_SECONDS:
            return self._known
        self._known, self._read_at = self.projection.position(), time.monotonic()
        if self._known < self._highest:  # dropped and rebuilding: read the log from the position again
            self._searched = 0
        self._highest = self._known
        return self._known
