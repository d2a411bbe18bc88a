"""Time entries through the analytics projection: a correction replaces the entry it names, in one batch as
one by one; the report sums minutes and billable minutes per any of its dimensions, within a supervisor's
groups, as of the day worked."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope
from schemas.registry import parse_data
from services.analytics.projections import AnalyticsProjection
from services.analytics.time_report import time_worked
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder

TICKET = str(uuid.uuid4())


def logged(position: int, entry_id: str, minutes: int, **data: Any) -> tuple[Envelope, Any, Tracking]:
    fields = {"ticket_id": TICKET, "entry_id": entry_id, "agent_id": "agent-1", "minutes": minutes,
              "activity": "support", "billable": True, "worked_on": "2026-11-02", "requester_id": "customer-1",
              "organisation": "initech", "group_id": "network"} | data  # fmt: skip
    envelope = Envelope(
        id=uuid.uuid4(), type="ticket.time_logged", version=1, source="intake", subject=TICKET, tenant="acme",
        actor="agent-1", occurred_at=datetime(2026, 11, 5, tzinfo=UTC), sequence=position, position=position,
        correlation_id="c", causation_id="c", data=fields,
    )  # fmt: skip
    return envelope, parse_data(envelope), Tracking("intake", position)


EVENTS = [
    logged(1, "t-1", 60),
    logged(2, "t-2", 30, activity="travel", billable=False, worked_on="2026-10-30"),
    logged(3, "t-3", 45, corrects="t-1", agent_id="agent-2"),
    logged(4, "t-4", 20, group_id="billing", requester_id="customer-2", organisation=None),
]


def projection(tmp_path: Path, name: str) -> AnalyticsProjection:
    return AnalyticsProjection(tracking_recorder(Settings(data_dir=tmp_path / name), "analytics"))


def test_a_correction_replaces_the_entry_in_one_batch_as_one_by_one(tmp_path: Path) -> None:
    one_by_one, batched = projection(tmp_path, "one"), projection(tmp_path, "batch")
    for event in EVENTS:
        one_by_one.apply(*event)
    batched.apply_many(EVENTS)

    assert one_by_one.rows()["time_entries"] == batched.rows()["time_entries"]
    report = time_worked(one_by_one.view, "acme", date(2026, 10, 1), date(2026, 11, 30), ["agent", "month"])
    assert report["rows"] == [
        {"agent": "agent-1", "month": "2026-10", "entries": 1, "minutes": 30, "billable_minutes": 0},
        {"agent": "agent-1", "month": "2026-11", "entries": 1, "minutes": 20, "billable_minutes": 20},
        {"agent": "agent-2", "month": "2026-11", "entries": 1, "minutes": 45, "billable_minutes": 45},
    ]
    assert (report["minutes"], report["billable_minutes"]) == (95, 65)


def test_the_report_groups_by_customer_and_organisation_within_a_supervisors_groups(tmp_path: Path) -> None:
    view = projection(tmp_path, "p")
    view.apply_many(EVENTS)
    period = (date(2026, 11, 1), date(2026, 11, 30))

    by_customer = time_worked(view.view, "acme", *period, ["customer", "organisation"])
    network_only = time_worked(view.view, "acme", *period, ["group"], within=frozenset({"network"}))
    nobody = time_worked(view.view, "acme", *period, ["activity"], within=frozenset())

    assert [(r["customer"], r["organisation"], r["minutes"]) for r in by_customer["rows"]] == [
        ("customer-1", "initech", 45), ("customer-2", None, 20)
    ]  # fmt: skip
    assert network_only["rows"] == [{"group": "network", "entries": 1, "minutes": 45, "billable_minutes": 45}]
    assert (nobody["rows"], nobody["minutes"]) == ([], 0)
