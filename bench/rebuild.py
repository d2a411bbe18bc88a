"""Analytics rebuild speed: drop the projection and replay it from intake's event feed, and
again from the Kafka topic, over 200,000 events (target >= 20,000 events/s), and check the
rebuilt rows equal the first build each time.

50,000 tickets, each opened, started, resolved (which also requests the survey), are
written straight into intake's store in batches; intake's relay publishes them (and
records them in its published log) and intake's API serves the feed; the rebuild runs
here, on PostgreSQL, as `python -m services.analytics.main rebuild` does.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from uuid import uuid4

from bench.results import record
from schemas import topics
from services.analytics.projections import AnalyticsProjection
from services.analytics.rebuild import from_feeds, from_kafka, rebuild
from services.chassis.messaging.published import RELAY_NAME
from services.chassis.storage.store import tracking_recorder
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.domain import Ticket
from services.intake.tickets.projections import VIEW as TICKETS_VIEW
from tests.client import eventually
from tests.harness import desk_settings
from tests.infra import kafka, postgres
from tests.privacy import desk_intake
from tests.tokens import service_token

TICKETS = 50_000  # x 4 public events
BATCH = 250


def seed(intake: Intake, tickets: int) -> int:
    """Tickets written in batches of BATCH per transaction, as intake stores them today (words sealed
    with the requester's key, keyword digests for the public event); how many events that made."""
    title, description = "Printer jams", "Tray 2"
    digests = intake.digests.of_text("bench", f"{title}\n{description}")
    events = 0
    with acting(Cause("bench", "agent-7", "bench", "bench")):
        for start in range(0, tickets, BATCH):
            batch = []
            for n in range(start, min(start + BATCH, tickets)):
                requester = f"customer-{n % 100}"
                ticket = Ticket.open(
                    uuid4(), f"SD-2026-{n:06d}", intake.personal.seal("bench", requester, title),
                    intake.personal.seal("bench", requester, description), requester, "email", "hardware",
                    "incident", "P3", [], {}, keyword_digests=digests,
                )  # fmt: skip
                ticket.start_work("picked up")
                ticket.resolve(intake.personal.seal("bench", requester, "replaced the roller"), "fixed")
                batch.append(ticket)
            events += sum(len(t.pending_events) for t in batch)
            intake.save(*batch)
    return events


class ResidentPeak:
    """The process's resident memory (MB) when a block begins and at its largest while it runs,
    sampled every 0.1 s: a rebuild's memory must not grow with the events it replays."""

    def __enter__(self) -> ResidentPeak:
        self.before = self.peak = _resident_mb()
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._sampler.join()

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            self.peak = max(self.peak, _resident_mb())

    def figures(self) -> list[int]:
        return [self.before, self.peak]


def _resident_mb() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 2**20


def calibration() -> float:
    """Seconds a fixed pure-Python loop takes here now: figures of days whose machines ran at
    different speeds compare by it (the same code measured 2.8 times slower on a slow day)."""
    began = time.perf_counter()
    sum(range(30_000_000))
    return round(time.perf_counter() - began, 2)


def run() -> None:
    broker, pg = kafka(), postgres()
    calibrated = calibration()
    with pg.fresh_database() as dbname, tempfile.TemporaryDirectory() as tmp:
        desk = desk_settings(Path(tmp), "postgres", broker, pg, dbname)
        began = time.perf_counter()
        stored = seed(desk_intake(desk.settings), TICKETS)
        seeded_in = time.perf_counter() - began
        api = desk.service("intake", "api").start()
        desk.service("intake", "relay").start()
        topic = desk.settings.kafka_name(topics.TICKETS)
        try:
            # The relay and intake's own ticket list catch up with the seeded store first: a rebuild
            # measured while they work through 200,000 events would be measuring them too.
            tracked = tracking_recorder(desk.settings, Intake.name)
            for name in (RELAY_NAME, TICKETS_VIEW):
                eventually(partial(tracked.max_tracking_id, name), lambda n: (n or 0) >= stored, timeout=600, every=1.0)
            projection = AnalyticsProjection(tracking_recorder(desk.settings, "analytics"))
            feeds = {"intake": api.url}
            first = rebuild(projection, from_feeds(feeds, service_token), progress=io.StringIO())  # the live build
            with ResidentPeak() as feed_memory:
                again = rebuild(projection, from_feeds(feeds, service_token))
            with ResidentPeak() as kafka_memory:
                from_topic = rebuild(projection, from_kafka(desk.settings.kafka_bootstrap_servers, [topic]))
        finally:
            desk.stop_all()
    record("rebuild", {
        "events": again.events, "stored_events": stored, "seed_seconds": round(seeded_in, 1),
        "first_build_events_per_s": round(first.per_second),
        "feed_rebuild_seconds": round(again.seconds, 1), "feed_rebuild_events_per_s": round(again.per_second),
        "feed_rebuild_resident_mb_before_and_peak": feed_memory.figures(),
        "kafka_rebuild_seconds": round(from_topic.seconds, 1),
        "kafka_rebuild_events_per_s": round(from_topic.per_second),
        "kafka_rebuild_resident_mb_before_and_peak": kafka_memory.figures(),
        "equals_live": again.equals_live and from_topic.equals_live, "target_events_per_s": 20_000,
        "calibration_seconds": [calibrated, calibration()],
    })  # fmt: skip


if __name__ == "__main__":
    run()
