"""A release's tables, created once by `python -m services.migrate` before the services start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from eventsourcing.persistence import TrackingRecorder

from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env
from services.chassis.storage.tables import create_service_tables
from services.migrate import migrate
from services.routing.application import Routing

# Per store (one SQLite file each): its events, snapshots, tracking and published log, and its read models.
EXPECTED = {
    "intake": {"stored_events", "stored_snapshots", "intake_published", "intake_tickets", "intake_ticket_tags",
               "intake_sla", "intake_webhook_deliveries"},
    "routing": {"stored_events", "routing_published", "routing_agents", "routing_queues"},
    "sla": {"stored_events", "sla_published", "sla_timers"},
    "analytics": {"analytics_tickets", "analytics_target_cycles", "analytics_outcomes", "view_versions"},
    "web": {"web_sessions"},
}  # fmt: skip


def tables(data_dir: Path, store: str) -> set[str]:
    with sqlite3.connect(data_dir / f"{store}.db") as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def triggers(data_dir: Path, store: str) -> set[str]:
    with sqlite3.connect(data_dir / f"{store}.db") as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}


def test_a_new_release_finds_every_store_and_read_model_ready(tmp_path: Path) -> None:
    migrate(Settings(persistence="sqlite", data_dir=tmp_path, create_tables=False))
    for store, expected in EXPECTED.items():
        assert expected <= tables(tmp_path, store), store
    for store in ("intake", "routing", "sla"):
        assert {name for name in tables(tmp_path, store) if "tracking" in name}, store
        assert triggers(tmp_path, store), f"{store}'s history is not append-only"


def test_migrating_a_desk_that_has_its_tables_changes_nothing(tmp_path: Path) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    migrate(settings)
    before = {store: tables(tmp_path, store) for store in EXPECTED}
    migrate(settings)
    assert {store: tables(tmp_path, store) for store in EXPECTED} == before


def test_a_service_told_not_to_create_tables_creates_none(tmp_path: Path) -> None:
    env = store_env(Settings(persistence="sqlite", data_dir=tmp_path, create_tables=False), Routing.name)
    assert env["CREATE_TABLE"] == "n"
    Routing(env=env).close()
    assert tables(tmp_path, "routing") == set()


def test_a_service_gets_its_event_store_and_each_of_its_read_models_on_that_store(tmp_path: Path) -> None:
    made: list[TrackingRecorder] = []
    create_service_tables(Settings(persistence="sqlite", data_dir=tmp_path), Routing, made.append, made.append)
    assert len(made) == 2
    assert {"stored_events", "routing_published"} <= tables(tmp_path, "routing")
    assert triggers(tmp_path, "routing"), "the history is not append-only"
