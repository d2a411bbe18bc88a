"""Durable timers: a table of (key, tenant, due instant) projected from a store's events, and the worker that fires
each key on its instant instead of scanning periodically (SLA's clocks, the rules service's timed triggers).

The table is a projection of the events that set or clear a timer (`TimerTable.timer_of`; it reads only the stored
events of its `topics` when it names them), so it is as durable as the events (recorded with the facts they follow
from, in one transaction) and rebuilt with them. The scheduler brings the table up to date, fires every key whose
instant has come (one read of them, a batch per transaction), then sleeps until the earliest next instant, or until
the store commits (a timer set meanwhile by a consumer: wake.py), and at least every `poll_seconds`. Steps are at
least `tick_seconds` apart unless a full batch waits: with timers falling due all the time (100,000 live clocks),
each step fires what fell due during the tick in one transaction instead of one step per timer and per commit, for
at most a tick of lateness. While it waits between steps, and beside them, it reads ahead what the keys due within
`lookahead_seconds` will decide on (`read_ahead`: an application's aggregates into its cache), so a firing step
finds them there instead of rebuilding each from its events when it is due. A timer that fell due while the service
was down fires at once on restart: late, never lost. Firing must be idempotent (the aggregate records each firing
once), so two schedulers, or a crash between firing and the table's update, never fire twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.pacing import sleep_unless
from services.chassis.runtime.retries import Backoff
from services.chassis.storage.projector import SqlProjection, StoreProjector
from services.chassis.storage.views import Sql
from services.chassis.storage.wake import Wake, store_commits

log = logging.getLogger(__name__)

# Fire these keys, due by this instant; true when something was recorded.
Fire = Callable[[list[str], datetime], bool]
# Make ready what firing these keys, due soon, will read (nothing to record: it may be left undone).
ReadAhead = Callable[[list[str]], None]
# The wall clock due instants are compared with: UTC seconds since the epoch (`time.time`).
WallClock = Callable[[], float]


class TimerTable(SqlProjection):
    """One row per key with somewhere to be: `table` (`key_column`, tenant, due_epoch)."""

    table: ClassVar[str]
    key_column: ClassVar[str]
    # The stored events' topics that may set or clear a timer, when known: the table reads only those.
    topics: ClassVar[Sequence[str]] = ()

    @classmethod
    def table_schema(cls, table: str, key_column: str) -> list[str]:
        return [
            f"""CREATE TABLE IF NOT EXISTS {table} (
        {key_column} TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        due_epoch DOUBLE PRECISION NOT NULL)""",
            f"CREATE INDEX IF NOT EXISTS {table}_due ON {table} (due_epoch)",
        ]

    def timer_of(self, event: Any) -> tuple[str, str, float | None] | None:
        """(key, tenant, due instant in epoch seconds or None to clear) when `event` sets or clears a timer,
        else None."""
        raise NotImplementedError

    def apply(self, events: Sequence[tuple[Any, int]], tracking: Sequence[Tracking]) -> None:
        """A batch's timers in two statements, each key as the batch's last event left it: a statement per
        event (a scheduler's step reads back every timer it just moved) was a fifth of the SLA scheduler's CPU."""
        timers: dict[str, tuple[str, float | None]] = {}
        for event, _ in events:
            if (timer := self.timer_of(event)) is not None:
                key, tenant, due = timer
                timers[key] = (tenant, due)
        with self.view.transaction(*tracking) as sql:
            self._clear(sql, [key for key, (_, due) in timers.items() if due is None])
            rows = [{self.key_column: key, "tenant": tenant, "due_epoch": due}
                    for key, (tenant, due) in timers.items() if due is not None]  # fmt: skip
            sql.insert(self.table, (self.key_column, "tenant", "due_epoch"), rows,
                       f" ON CONFLICT ({self.key_column}) DO UPDATE SET due_epoch = excluded.due_epoch")  # fmt: skip

    def _clear(self, sql: Sql, keys: list[str]) -> None:
        if not keys:
            return
        if sql.postgres:
            sql.execute(f"DELETE FROM {self.table} WHERE {self.key_column} = ANY(:keys)", {"keys": keys})
            return
        for key in keys:
            sql.execute(f"DELETE FROM {self.table} WHERE {self.key_column} = :key", {"key": key})

    def due(self, now: float, limit: int) -> list[str]:
        rows = self.view.query(
            f"SELECT {self.key_column} AS key FROM {self.table} WHERE due_epoch <= :now ORDER BY due_epoch"
            " LIMIT :limit",
            {"now": now, "limit": limit},
        )
        return [str(row["key"]) for row in rows]

    def due_between(self, after: float, until: float, limit: int) -> list[tuple[str, float]]:
        """(key, due instant) of the timers due after `after` and by `until`, the earliest `limit` of them."""
        rows = self.view.query(
            f"SELECT {self.key_column} AS key, due_epoch FROM {self.table}"
            " WHERE due_epoch > :after AND due_epoch <= :until ORDER BY due_epoch LIMIT :limit",
            {"after": after, "until": until, "limit": limit},
        )
        return [(str(row["key"]), float(row["due_epoch"])) for row in rows]

    def earliest(self) -> float | None:
        rows = self.view.query(f"SELECT MIN(due_epoch) AS due FROM {self.table}")
        due: float | None = rows[0]["due"] if rows else None
        return due

    def pending(self) -> int:
        return int(self.view.query(f"SELECT COUNT(*) AS n FROM {self.table}")[0]["n"])


class TimerScheduler:
    """Fires `timers`' due keys with `fire`, on their instant (see the module's docstring)."""

    def __init__(
        self,
        app: Application[Any],
        timers: TimerTable,
        fire: Fire,
        name: str,
        batch: int = 500,
        poll_seconds: float = 1.0,
        tick_seconds: float = 0.05,
        wall: WallClock = time.time,
        read_ahead: ReadAhead | None = None,
        lookahead_seconds: float = 1.0,
    ) -> None:
        self.app = app
        self.timers = timers
        self.fire = fire
        self.name = name
        self.projector = StoreProjector(app, timers, batch_size=1000, topics=timers.topics)
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.tick_seconds = tick_seconds
        # Due instants are UTC, so "due" is read on the wall clock; every wait is on the loop's monotonic clock
        # and at most `poll_seconds`, so a wall clock set forward fires what it passed within a poll, and one
        # set back neither fires anything again (firing is idempotent) nor leaves the scheduler asleep.
        self.wall = wall
        self.read_ahead = read_ahead
        self.lookahead_seconds = lookahead_seconds
        self._read_until = 0.0  # the due instants read ahead reach this far (wall clock)

    async def run(self, stopping: asyncio.Event) -> None:
        async with store_commits(self.app).follower(stopping) as wake:
            await self._schedule(stopping, wake)

    async def _schedule(self, stopping: asyncio.Event, wake: Wake) -> None:
        backoff = Backoff.for_store()
        loop = asyncio.get_running_loop()
        reading: asyncio.Future[None] | None = None  # the read ahead under way, beside the steps
        while not stopping.is_set():
            began = loop.time()
            try:
                wait = await asyncio.to_thread(self.step)
                backoff.succeeded()
            except TRANSIENT_STORE_ERRORS as error:
                log.warning("%s scheduler: store unavailable, retrying: %r", self.name, error)
                await sleep_unless(stopping, backoff.failed())
                continue
            if wait > 0:
                if self.read_ahead is not None and (reading is None or reading.done()):
                    reading = asyncio.ensure_future(asyncio.to_thread(self.ahead))  # never delays a step
                await wake.wait(wait)
                # Woken by a commit or a timer's instant: what else falls due within the tick waits for it, to
                # fire with it in one step.
                await sleep_unless(stopping, began + self.tick_seconds - loop.time())
        if reading is not None:
            await reading

    def step(self) -> float:
        """Fire what is due now; how long to sleep before the next step."""
        self.projector.catch_up(trusted=True)
        now = self.wall()
        due = self.timers.due(now, self.batch)
        if due:
            if not self.fire(due, datetime.fromtimestamp(now, UTC)):
                return self.poll_seconds  # nothing to record: the table catches up next step
            return 0.0 if len(due) == self.batch else self.tick_seconds  # more waiting: at once
        earliest = self.timers.earliest()
        if earliest is None:
            return self.poll_seconds
        return max(0.0, min(self.poll_seconds, earliest - self.wall()))

    def ahead(self) -> None:
        """Read ahead for the keys due within `lookahead_seconds` not read yet (`run` does, beside its steps,
        while it waits). Each key is read once, when it comes within reach: the table is read from where the last
        read stopped (a timer set meanwhile to fall due before that point is read when it fires). A read that
        fails is left undone: the firing step reads what it needs."""
        if self.read_ahead is None:
            return
        now = self.wall()
        until = now + self.lookahead_seconds
        after = self._read_until if now <= self._read_until <= until else now  # a wall clock set back: anew
        try:
            ahead = self.timers.due_between(after, until, self.batch)
            if ahead:
                self.read_ahead([key for key, _ in ahead])
        except TRANSIENT_STORE_ERRORS as error:
            log.debug("%s scheduler: read ahead left undone: %r", self.name, error)
            return
        self._read_until = ahead[-1][1] if len(ahead) == self.batch else until
