"""Imported tickets count like native ones downstream: tickets of a CSV export, imported through `python -m
services.importer csv` into a desk on real Kafka and PostgreSQL, show in analytics' figures on the days they
happened, are found by the ticket search and offered by the knowledge base's similar-ticket suggestions."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.client import eventually
from tests.harness import Desk
from tests.imports import TENANT, Json, admin_gateway


@pytest.fixture
def gateway(desk: Desk) -> httpx.Client:
    desk.env["SERVICEDESK_ANALYTICS_URL"] = desk.service("analytics", "all").start().url
    return admin_gateway(desk)


@pytest.fixture
def imported(desk: Desk, tmp_path: Path, gateway: httpx.Client) -> dict[str, Json]:
    """Two tickets of an old desk, opened in March 2019: one resolved the next day, one never worked."""
    run = uuid4().hex[:6]
    rows = [
        {"id": f"T-{run}-1", "subject": "Toner smudges on the quarterly invoices", "created": "2019-03-04T09:00:00Z",
         "updated": "2019-03-05T16:30:00Z", "requester_email": f"ana-{run}@example.com", "status": "resolved",
         "description": "Every printed invoice has grey streaks", "queue": "billing"},
        {"id": f"T-{run}-2", "subject": "Toner smudges on the label printer", "created": "2019-03-06T10:00:00Z",
         "requester_email": f"li-{run}@example.com", "description": "Labels unreadable", "queue": "billing"},
    ]  # fmt: skip
    tickets = tmp_path / "tickets.csv"
    with tickets.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    command = [sys.executable, "-m", "services.importer", "csv", str(tickets), "--tenant", TENANT]
    done = subprocess.run(command, env=desk.env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    def by_ref(ref: str) -> Json:
        page = eventually(lambda: gateway.get("/v1/tickets", params={"tag": ref}).json(), lambda p: p["tickets"])
        ticket: Json = page["tickets"][0]
        return ticket

    return {"resolved": by_ref(f"csv:t-{run}-1"), "new": by_ref(f"csv:t-{run}-2")}


def test_imported_tickets_count_in_analytics_on_the_days_they_happened(
    gateway: httpx.Client, imported: dict[str, Json]
) -> None:
    march = {"from": "2019-03-01", "to": "2019-03-31"}

    flow = eventually(lambda: gateway.get("/v1/reports/flow", params=march).json(), lambda f: f["opened"] == 2)

    days = {row["day"]: row for row in flow["buckets"] if row["opened"] or row["resolved"]}
    assert {day: (row["opened"], row["resolved"]) for day, row in days.items()} == {
        "2019-03-04": (1, 0),
        "2019-03-05": (0, 1),
        "2019-03-06": (1, 0),
    }
    assert gateway.get("/v1/reports/backlog").json()["open"] >= 1  # the one never worked is still open


def test_the_ticket_search_finds_an_imported_ticket_by_its_words(
    gateway: httpx.Client, imported: dict[str, Json]
) -> None:
    found = eventually(
        lambda: gateway.get("/v1/tickets/search", params={"q": "grey streaks"}).json()["tickets"],
        lambda tickets: tickets,
    )
    assert [ticket["id"] for ticket in found] == [imported["resolved"]["id"]]


def test_the_knowledge_base_suggests_an_imported_resolved_ticket_as_similar(
    gateway: httpx.Client, imported: dict[str, Json]
) -> None:
    text = {"text": "Toner smudges all over my invoices", "limit": 5}

    suggested = eventually(lambda: gateway.post("/v1/kb/suggestions", json=text).json(), lambda s: s["tickets"])

    assert [(t["id"], t["status"]) for t in suggested["tickets"]] == [(imported["resolved"]["id"], "resolved")]
