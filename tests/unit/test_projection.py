"""The backlog projection on SQLite: each event once, reports per tenant, rebuildable."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from schemas.registry import parse_data
from services.analytics import reports
from services.analytics.projections import AnalyticsProjection
from services.chassis.messaging.batching import in_view
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from tests.unit.test_envelope import an_envelope


def projection(tmp_path: Path) -> AnalyticsProjection:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    return AnalyticsProjection(tracking_recorder(settings, "analytics"))


def opened(position: int, tenant: str = "acme", priority: str = "P2") -> tuple[object, ...]:
    data = {
        "ticket_id": str(uuid.uuid4()), "number": f"SD-2026-{position:06d}", "requester_id": "c",
        "channel": "email", "category": "network", "type": "incident", "priority": priority, "tags": [],
    }  # fmt: skip
    envelope = an_envelope(position=position, tenant=tenant, data=data)
    return envelope, parse_data(envelope), Tracking("intake", position)


def test_an_opened_ticket_joins_its_tenants_backlog(tmp_path: Path) -> None:
    backlog = projection(tmp_path)
    backlog.apply(*opened(1, priority="P1"))  # type: ignore[arg-type]
    backlog.apply(*opened(2))  # type: ignore[arg-type]
    backlog.apply(*opened(3, tenant="globex"))  # type: ignore[arg-type]
    report = reports.backlog(backlog.view, "acme")
    assert report["open"] == 2
    assert report["by_priority"] == {"P1": 1, "P2": 1}
    day = date(2026, 11, 23)
    assert reports.flow(backlog.view, "acme", day, day) == [
        {"day": "2026-11-23", "opened": 2, "resolved": 0, "reopened": 0}
    ]


def test_a_redelivered_event_changes_nothing(tmp_path: Path) -> None:
    backlog = projection(tmp_path)
    event = opened(7)
    backlog.apply(*event)  # type: ignore[arg-type]
    before = backlog.rows()
    with pytest.raises(IntegrityError):
        backlog.apply(*event)  # type: ignore[arg-type]
    assert backlog.rows() == before


def test_tables_filled_by_an_older_version_of_analytics_are_known_as_outdated(tmp_path: Path) -> None:
    fresh = projection(tmp_path)
    assert not fresh.view.outdated, "a new store has nothing to rebuild"
    fresh.apply(*opened(1))  # type: ignore[arg-type]
    with fresh.view.transaction() as sql:
        sql.execute("DELETE FROM view_versions")  # as a store from before versions were kept
    older = projection(tmp_path)
    assert older.view.outdated
    older.view.mark_current()
    assert not projection(tmp_path).view.outdated


def test_targets_an_older_version_of_analytics_kept_per_metric_give_way_to_cycles_and_a_rebuild(
    tmp_path: Path,
) -> None:
    fresh = projection(tmp_path)
    fresh.apply(*opened(1))  # type: ignore[arg-type]
    with fresh.view.transaction() as sql:
        sql.execute("DROP TABLE analytics_target_cycles")
        sql.execute(  # as version 3 made it: a row per metric
            "CREATE TABLE analytics_targets (tenant TEXT NOT NULL, ticket_id TEXT NOT NULL, metric TEXT NOT NULL,"
            " policy_id TEXT NOT NULL, target_seconds INTEGER NOT NULL, used_seconds INTEGER NOT NULL,"
            " state TEXT NOT NULL, breached INTEGER NOT NULL, met_on TEXT, started_at TEXT, met_at TEXT,"
            " breached_on TEXT, PRIMARY KEY (tenant, ticket_id, metric))"
        )
        sql.execute("UPDATE view_versions SET version = 3")
    older = projection(tmp_path)
    assert older.view.outdated
    assert not older.view.query("SELECT name FROM sqlite_master WHERE name = 'analytics_targets'")
    assert (
        reports.service_levels(older.view, "acme", date(2026, 11, 23), date(2026, 11, 23))["resolution"]
        == (reports.service_levels(fresh.view, "acme", date(2000, 1, 1), date(2000, 1, 1))["resolution"])
    ), "reports read before the rebuild fills them"


def test_a_rebuild_knows_its_tables_equal_the_live_ones_without_holding_them(tmp_path: Path) -> None:
    backlog = projection(tmp_path)
    events = [opened(position) for position in range(1, 8)]
    backlog.apply_many(events)  # type: ignore[arg-type]
    live = backlog.fingerprint()
    assert live["tickets"][0] == 7
    assert [row for chunk in backlog.view.stream("SELECT * FROM analytics_tickets", size=3) for row in chunk] == (
        backlog.view.query("SELECT * FROM analytics_tickets")
    ), "read three rows at a time, every row once"
    backlog.drop()
    assert backlog.fingerprint() != live
    backlog.apply_many(events)  # type: ignore[arg-type]
    assert backlog.fingerprint() == live
    with backlog.view.transaction() as sql:
        sql.execute("UPDATE analytics_tickets SET priority = 'P1' WHERE number = 'SD-2026-000004'")
    assert backlog.fingerprint() != live, "one changed column of one row is told apart"


def test_a_batch_with_a_redelivered_event_applies_the_rest_once(tmp_path: Path) -> None:
    """The analytics consumer's batch: one transaction, the events tracked before set aside."""
    backlog = projection(tmp_path)
    apply_batch = in_view(backlog.view, backlog.apply_many)
    first, second, third = opened(1), opened(2), opened(3)
    backlog.apply(*first)  # type: ignore[arg-type]
    assert apply_batch([first, second, third, second]) == {0, 3}  # type: ignore[list-item]
    assert reports.backlog(backlog.view, "acme")["open"] == 3
    before = backlog.rows()
    assert apply_batch([first, second, third]) == {0, 1, 2}  # type: ignore[list-item]
    assert backlog.rows() == before
