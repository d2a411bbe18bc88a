"""The backlog projection on SQLite: each event once, reports per tenant, rebuildable."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from schemas.registry import parse_data
from services.analytics.projections import BacklogProjection
from services.chassis.settings import Settings
from services.chassis.store import tracking_recorder
from tests.unit.test_envelope import an_envelope


def projection(tmp_path: Path) -> BacklogProjection:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    return BacklogProjection(tracking_recorder(settings, "analytics"))


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
    report = backlog.backlog("acme")
    assert report["open"] == 2
    assert report["by_priority"] == {"P1": 1, "P2": 1}
    assert backlog.flow("acme") == [{"day": "2026-11-23", "opened": 2}]


def test_a_redelivered_event_changes_nothing(tmp_path: Path) -> None:
    backlog = projection(tmp_path)
    event = opened(7)
    backlog.apply(*event)  # type: ignore[arg-type]
    before = backlog.rows()
    with pytest.raises(IntegrityError):
        backlog.apply(*event)  # type: ignore[arg-type]
    assert backlog.rows() == before
