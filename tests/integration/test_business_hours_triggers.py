"""Timed triggers in business hours end to end, on real PostgreSQL and Kafka: "pending for more than N business
seconds" counts only the hours of the SLA service's calendar it names (read from the SLA service when the trigger
is saved), fires within a second of that instant and not at the wall-clock one; a calendar the SLA service does
not know is refused naming the condition's part, and a calendar changed later applies when the trigger is saved
again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.client import eventually, open_ticket, read_ticket
from tests.harness import Desk
from tests.integration.test_timed_triggers import ADMIN, TENANT, Rules, firings, lateness, pend

BUSINESS = 20.0  # seconds of business time the trigger waits
OPEN_FOR = 15  # the calendar closes this long after the test starts...
CLOSED_FOR = 8  # ...for this long, then opens again till midnight


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    desk.service("sla").start()  # first: the rules service finds it where it answers
    Rules(desk)
    with desk.gateway() as client:
        yield client


def clock_time(instant: datetime) -> str:
    return instant.strftime("%H:%M:%S")


def shift_calendar(client: httpx.Client, name: str) -> tuple[float, float]:
    """Every day open till a few seconds from now and again a few seconds later (UTC): when it closes, opens."""
    now = datetime.now(UTC).replace(microsecond=0)
    if now.date() != (now + timedelta(minutes=2)).date():  # the hours must not cross midnight
        time.sleep(121)
        now = datetime.now(UTC).replace(microsecond=0)
    closes, opens = now + timedelta(seconds=OPEN_FOR), now + timedelta(seconds=OPEN_FOR + CLOSED_FOR)
    hours = [["00:00", clock_time(closes)], [clock_time(opens), "24:00"]]
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    spec = {"time_zone": "UTC", "weekly": dict.fromkeys(days, hours)}
    reply = client.put(f"/v1/sla/calendars/{name}", json=spec, headers=ADMIN)
    assert reply.status_code == 200, reply.text
    return closes.timestamp(), opens.timestamp()


def waiting(client: httpx.Client, calendar: str) -> httpx.Response:
    spec = {
        "name": "Pending too long in business hours",
        "when": ["time"],
        "if": [
            {"field": "status", "op": "is", "value": "pending"},
            {"field": "hours_since", "of": "status_changed", "op": "greater", "value": BUSINESS / 3600,
             "business_hours": True, "calendar": calendar},
        ],
        "then": {"tags_add": ["late-in-hours"]},
    }  # fmt: skip
    return client.post("/v1/triggers", json=spec, headers=ADMIN)


def test_a_business_hours_trigger_waits_out_the_closed_hours_and_fires_on_its_instant(gateway: httpx.Client) -> None:
    closes, opens = shift_calendar(gateway, "shift")
    made = waiting(gateway, "shift")
    assert made.status_code == 201, made.text
    trigger: dict[str, Any] = made.json()
    ticket_id = open_ticket(gateway, TENANT)
    pended_at = pend(gateway, ticket_id)
    assert pended_at < closes, "the ticket went pending while the calendar was open"

    eventually(lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: "late-in-hours" in t["tags"], timeout=90)
    [firing] = firings(gateway, trigger["id"])
    due = float(firing["event_id"].removeprefix("time:"))
    assert abs(due - (opens + BUSINESS - (closes - pended_at))) < 0.01, (due, pended_at, closes, opens)
    assert due >= pended_at + BUSINESS + CLOSED_FOR - 0.01  # not at the wall clock's instant
    assert 0 <= lateness(firing) <= 1.0, firing
    assert "business hours (shift)" in firing["reason"]


def test_a_calendar_unknown_to_the_sla_service_is_refused_and_a_changed_one_applies_when_saved_again(
    gateway: httpx.Client,
) -> None:
    refused = waiting(gateway, "nowhere")
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in refused.json()["errors"]] == ["if[1].calendar"]

    office = {"time_zone": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]]}}
    assert gateway.put("/v1/sla/calendars/office", json=office, headers=ADMIN).status_code == 200
    made = waiting(gateway, "office")
    assert made.status_code == 201, made.text
    trigger_id, etag = made.json()["id"], made.headers["ETag"]
    assert made.json()["if"][1]["calendar_spec"] == office

    longer = {"time_zone": "Europe/Berlin", "weekly": {"mon": [["08:00", "18:00"]]}}
    assert gateway.put("/v1/sla/calendars/office", json=longer, headers=ADMIN).status_code == 200
    assert gateway.get(f"/v1/triggers/{trigger_id}", headers=ADMIN).json()["if"][1]["calendar_spec"] == office
    saved = gateway.patch(f"/v1/triggers/{trigger_id}", json={}, headers=ADMIN | {"If-Match": etag})
    assert saved.status_code == 200, saved.text
    assert saved.json()["if"][1]["calendar_spec"] == longer
    versions = gateway.get(f"/v1/triggers/{trigger_id}/versions", headers=ADMIN).json()["versions"]
    assert [v["spec"]["if"][1]["calendar_spec"] for v in versions] == [office, longer]
