"""Durable timers: each clock's next due instant, and the worker that fires clocks on time.

The timers table is a projection of the clocks' `Scheduled` events (one row per clock
with somewhere to be), so it is as durable as the events and rebuilt with them. The
scheduler brings the table up to date, fires every clock whose instant has come (a
batch per transaction), then sleeps until the earliest next instant, or until the store
commits (a timer set meanwhile by the consumer: services/chassis/storage/wake.py), and
at least every `poll_seconds`. A timer that fell
due while the service was down fires at once on restart: late, never lost. Firing is
idempotent (a clock records each warning, breach and reminder once), so two
schedulers, or a crash between firing and the table's update, never fire twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prometheus_client import CollectorRegistry, Gauge, Histogram

from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.pacing import sleep_unless
from services.chassis.runtime.retries import Backoff
from services.chassis.storage.projector import SqlProjection, StoreProjector
from services.chassis.storage.views import Sql
from services.chassis.storage.wake import Wake, store_commits
from services.sla.application import Sla

log = logging.getLogger(__name__)

VIEW = "sla-timers-view"
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS sla_timers (
        clock_id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        due_epoch DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS sla_timers_due ON sla_timers (due_epoch)",
]
FIRED = {"Warned", "Breached", "Reminded", "Unresponsive"}


class TimersView(SqlProjection):
    name = VIEW
    schema = SCHEMA

    def write(self, sql: Sql, event: Any) -> None:
        if type(event).__qualname__ != "Clock.Scheduled":
            return
        key = {"clock_id": str(event.originator_id)}
        if event.due_at is None:
            sql.execute("DELETE FROM sla_timers WHERE clock_id = :clock_id", key)
        else:
            sql.execute(
                "INSERT INTO sla_timers VALUES (:clock_id, :tenant, :due) ON CONFLICT (clock_id)"
                " DO UPDATE SET due_epoch = excluded.due_epoch",
                key | {"tenant": event.tenant, "due": event.due_at.timestamp()},
            )

    def due(self, now: float, limit: int) -> list[UUID]:
        rows = self.view.query(
            "SELECT clock_id FROM sla_timers WHERE due_epoch <= :now ORDER BY due_epoch LIMIT :limit",
            {"now": now, "limit": limit},
        )
        return [UUID(row["clock_id"]) for row in rows]

    def earliest(self) -> float | None:
        rows = self.view.query("SELECT MIN(due_epoch) AS due FROM sla_timers")
        due: float | None = rows[0]["due"] if rows else None
        return due

    def pending(self) -> int:
        return int(self.view.query("SELECT COUNT(*) AS n FROM sla_timers")[0]["n"])


class Scheduler:
    def __init__(
        self, sla: Sla, timers: TimersView, registry: CollectorRegistry, batch: int = 200, poll_seconds: float = 1.0
    ) -> None:
        self.sla = sla
        self.timers = timers
        self.projector = StoreProjector(sla, timers, batch_size=1000)
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.lateness = Histogram(
            "servicedesk_sla_timer_lateness_seconds",
            "How late a warning, breach or reminder was recorded after its due instant.",
            ["kind"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0, 300.0),
            registry=registry,
        )
        Gauge(
            "servicedesk_sla_timers_scheduled", "Clocks waiting for their next due instant.", registry=registry
        ).set_function(timers.pending)

    async def run(self, stopping: asyncio.Event) -> None:
        async with store_commits(self.sla).follower(stopping) as wake:
            await self._schedule(stopping, wake)

    async def _schedule(self, stopping: asyncio.Event, wake: Wake) -> None:
        backoff = Backoff(initial=0.2, maximum=5.0)
        while not stopping.is_set():
            try:
                wait = await asyncio.to_thread(self.step)
                backoff.succeeded()
            except TRANSIENT_STORE_ERRORS as error:
                log.warning("sla scheduler: store unavailable, retrying: %r", error)
                await sleep_unless(stopping, backoff.failed())
                continue
            if wait > 0:
                await wake.wait(wait)

    def step(self) -> float:
        """Fire what is due now; how long to sleep before the next step."""
        self.projector.catch_up()
        now = time.time()
        due = self.timers.due(now, self.batch)
        if due:
            fired = self.sla.fire(due, datetime.fromtimestamp(now, UTC))
            for event in fired:
                if type(event).__name__ in FIRED:
                    self.lateness.labels(type(event).__name__.lower()).observe(
                        max(0.0, (event.timestamp - event.at).total_seconds())
                    )
            return 0.0 if fired else self.poll_seconds  # nothing to record: the table catches up next step
        earliest = self.timers.earliest()
        if earliest is None:
            return self.poll_seconds
        return max(0.0, min(self.poll_seconds, earliest - time.time()))
