"""SLA's durable timers: each clock's next due instant (services/chassis/storage/timers.py keeps the table
and fires on time).

The timers table is a projection of the clocks' `Scheduled` events (one row per clock with somewhere to be).
Firing is idempotent (a clock records each warning, breach and reminder once), so two schedulers, or a crash
between firing and the table's update, never fire twice.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from prometheus_client import CollectorRegistry, Gauge, Histogram

from services.chassis.storage.preloading import read_ahead
from services.chassis.storage.timers import TimerScheduler, TimerTable, WallClock
from services.sla.application import Sla
from services.sla.clock import Clock

VIEW = "sla-timers-view"
FIRED = {"Warned", "Breached", "Reminded", "Unresponsive"}


class TimersView(TimerTable):
    name = VIEW
    table = "sla_timers"
    key_column = "clock_id"
    schema = TimerTable.table_schema(table, key_column)
    topics = (get_topic(Clock.Scheduled),)

    def timer_of(self, event: Any) -> tuple[str, str, float | None] | None:
        if type(event).__qualname__ != "Clock.Scheduled":
            return None
        due = event.due_at.timestamp() if event.due_at is not None else None
        return str(event.originator_id), str(event.tenant), due


class Scheduler(TimerScheduler):
    def __init__(
        self,
        sla: Sla,
        timers: TimersView,
        registry: CollectorRegistry,
        batch: int = 500,
        poll_seconds: float = 1.0,
        wall: WallClock = time.time,
    ) -> None:
        super().__init__(sla, timers, self._fire, "sla", batch, poll_seconds, wall=wall, read_ahead=self._read_ahead)
        self.sla = sla
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

    def _read_ahead(self, keys: list[str]) -> None:
        """The clocks due within the second into the cache: a clock fired last more than a few thousand firings
        ago has left it, and rebuilding each from its events when due was a quarter of a firing step."""
        read_ahead(self.sla, [UUID(key) for key in keys])

    def _fire(self, keys: list[str], now: datetime) -> bool:
        fired = self.sla.fire([UUID(key) for key in keys], now)
        for event in fired:
            if type(event).__name__ in FIRED:
                self.lateness.labels(type(event).__name__.lower()).observe(
                    max(0.0, (event.timestamp - event.at).total_seconds())
                )
        return bool(fired)
