"""Analytics' projection is the same whatever the order between its topics: intake's events keep their
order, SLA's keep theirs, and the live consumer meets them interleaved as they arrive while a rebuild
replays intake's feed, then SLA's. The same events in any such interleaving, one at a time or in
batches, leave the same rows, on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from schemas.registry import typed
from services.analytics.projections import AnalyticsProjection
from services.analytics.rebuild import rebuild
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from tests.desk_invariants import applied_positions, only_applied, rows_differ
from tests.infra import Postgres
from tests.unit.test_reports import Day

Stores = Callable[[], AbstractContextManager[Settings]]


@pytest.fixture(params=["sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Stores:
    """A fresh analytics store each time it is called, on the backend of the test's run."""
    if request.param == "postgres":
        postgres: Postgres = request.getfixturevalue("postgres")
        return postgres.fresh_settings
    count = iter(range(1000))

    @contextmanager
    def sqlite() -> Iterator[Settings]:
        yield Settings(persistence="sqlite", data_dir=tmp_path / f"store-{next(count)}")

    return sqlite


def a_desk_day(tmp_path: Path) -> list[Any]:
    """Tickets answered and resolved in time or late, reopened, resolved again, rated; their SLA
    targets started, breached, met and counting again: each event as the live consumer met it."""
    day = Day(tmp_path / "recorded")
    tickets = [day.ticket("P2", 60 * n, 600 * n, (n % 3 == 0, n % 4 == 0)) for n in range(1, 7)]
    resolution: dict[str, Any] = {"policy_id": "std", "metric": "resolution", "target_seconds": 28800, "due_at": "x"}
    for n, ticket_id in enumerate(tickets):
        day.event("ticket.assigned", ticket_id, group_id=f"g{n % 2}", agent_id=f"a{n % 3}")
        day.event("ticket.status_changed", ticket_id, status="open", change="reopened")
        day.event("sla.resumed", ticket_id, source="sla", business_seconds_used=600 * n, **resolution)
        if n % 2:
            day.event("sla.breached", ticket_id, source="sla", business_seconds_used=28800, **resolution)
        day.event("sla.started", ticket_id, source="sla", business_seconds_used=0,
                  **resolution | {"metric": "next_response", "target_seconds": 3600})  # fmt: skip
        day.event("sla.met", ticket_id, source="sla", business_seconds_used=900 * n, **resolution)
        day.event("ticket.status_changed", ticket_id, status="resolved", change="resolved")
        day.event("ticket.survey_requested", ticket_id)
        day.event("ticket.rated", ticket_id, score=1 + n % 5)
    return day.log


def interleavings(log: list[Any]) -> dict[str, list[Any]]:
    """The log in orders that keep each topic's own: as recorded, a rebuild's (intake's, then SLA's),
    SLA's first, and random merges."""
    intake = [event for event in log if event[0].source == "intake"]
    sla = [event for event in log if event[0].source == "sla"]
    orders = {"as recorded": log, "intake, then sla": intake + sla, "sla, then intake": sla + intake}
    for seed in range(3):
        rng, merged, rest = random.Random(seed), [], [list(intake), list(sla)]
        while any(rest):
            merged.append(rng.choice([topic for topic in rest if topic]).pop(0))
        orders[f"merged at random ({seed})"] = merged
    return orders


def rows_of(stores: Stores, events: list[Any], batch: int) -> dict[str, list[dict[str, Any]]]:
    with stores() as settings:
        projection = AnalyticsProjection(tracking_recorder(settings, "analytics"))
        try:
            for start in range(0, len(events), batch):
                projection.apply_many(events[start : start + batch])
            return projection.rows()
        finally:
            projection.view.datastore.close()


def test_the_same_events_in_any_order_between_topics_leave_the_same_rows(stores: Stores, tmp_path: Path) -> None:
    log = a_desk_day(tmp_path)
    expected = rows_of(stores, log, batch=1)
    assert all(expected[table] for table in ("tickets", "target_cycles", "outcomes"))
    for name, events in interleavings(log).items():
        for batch in (1, 7):
            assert rows_of(stores, events, batch) == expected, f"{name}, {batch} at a time"


def test_a_breach_the_consumer_had_not_reached_is_all_a_rebuild_of_the_whole_feeds_differs_in(tmp_path: Path) -> None:
    """What the fault bench saw: the load stopped, the SLA scheduler still recorded a breach, the consumer
    stopped before it (its topic's last events). The rebuild of every event differs in that target cycle's
    contents; the rebuild of the events the live projection applied does not."""
    day = Day(tmp_path / "recorded")
    ticket_id = day.opened()
    sla = day.clock(ticket_id, "resolution", 28800)
    sla("started", 0)
    sla("breached", 28800)
    feeds, reached = day.log, day.log[:-1]
    store = Settings(data_dir=tmp_path / "live")
    live = AnalyticsProjection(tracking_recorder(store, "analytics"))
    live.apply_many(reached)
    before, applied = live.rows(), applied_positions(live)

    def pages(source: str) -> Iterator[list[Any]]:
        yield [typed(envelope.model_dump()) for envelope, _, _ in feeds if envelope.source == source]

    rebuilder = AnalyticsProjection(tracking_recorder(store, "analytics"))
    assert not rebuild(rebuilder, {s: pages(s) for s in ("intake", "sla")}, progress=None).equals_live
    assert rows_differ(before, rebuilder.rows()) == [
        f"target_cycles (1 rows): ('acme', '{ticket_id}', 'resolution', 1)"
        f" {{'breached': (0, 1), 'breached_on': (None, '{day.date.isoformat()}')}}"
    ]
    rebuilder.drop()
    live.apply_many(reached)
    sources = {s: only_applied(pages(s), applied.get(s, set())) for s in ("intake", "sla")}
    assert rebuild(rebuilder, sources, progress=None).equals_live
