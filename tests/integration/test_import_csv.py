"""Moving in from a plain CSV export: a file of tickets and one of their comments, written by the test,
imported through `python -m services.importer csv` into a desk on real Kafka and PostgreSQL."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.client import eventually
from tests.harness import Desk
from tests.imports import TENANT, Json, admin_gateway, by_ref

COLUMNS = ["id", "subject", "created", "updated", "requester_email", "requester_name", "description", "status",
           "priority", "type", "queue", "owner_email", "tags"]  # fmt: skip


@pytest.fixture
def export(tmp_path: Path) -> tuple[Path, Path, str]:
    """Two good tickets and two rows that cannot be tickets; comments of the first."""
    run = uuid4().hex[:6]
    tickets, comments = tmp_path / f"tickets-{run}.csv", tmp_path / f"comments-{run}.csv"
    rows = [
        {"id": "A-1", "subject": "Invoice missing", "created": "2019-03-04T09:00:00Z",
         "updated": "2019-03-05T16:30:00Z", "requester_email": f"ana-{run}@example.com", "requester_name": "Ana",
         "description": "The March invoice never came", "status": "resolved", "priority": "P2", "type": "question",
         "queue": "billing", "owner_email": f"bo-{run}@desk.example", "tags": "invoice;march"},
        {"id": "A-2", "subject": "New laptop", "created": "2019-04-01T08:00:00",
         "requester_email": f"li-{run}@example.com"},
        {"id": "A-3", "subject": "No requester", "created": "2019-04-02T08:00:00Z"},
        {"id": "A-4", "subject": "Odd status", "created": "2019-04-03T08:00:00Z", "requester_email": "x@example.com",
         "status": "stalled"},
    ]  # fmt: skip
    with tickets.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with comments.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, ["ticket_id", "created", "author_email", "body", "public", "staff"])
        writer.writeheader()
        agent = f"bo-{run}@desk.example"
        writer.writerow({"ticket_id": "A-1", "created": "2019-03-04T10:00:00Z", "author_email": agent,
                         "body": "Resent it today", "public": "true", "staff": "true"})  # fmt: skip
        writer.writerow({"ticket_id": "A-1", "created": "2019-03-04T10:05:00Z", "author_email": agent,
                         "body": "ERP export was stuck", "public": "false", "staff": "true"})  # fmt: skip
        writer.writerow({"ticket_id": "A-1", "created": "yesterday", "author_email": "x@example.com", "body": "?"})
    return tickets, comments, run


def import_csv(desk: Desk, tickets: Path, comments: Path, *extra: str) -> tuple[int, str]:
    command = [sys.executable, "-m", "services.importer", "csv", str(tickets), "--comments", str(comments),
               "--tenant", TENANT, *extra]  # fmt: skip
    done = subprocess.run(command, env=desk.env, capture_output=True, text=True, timeout=300)
    return done.returncode, " ".join(done.stderr.split())


@pytest.fixture
def gateway(desk: Desk) -> httpx.Client:
    return admin_gateway(desk)


def test_a_dry_run_lists_every_row_it_cannot_map_with_the_reason(
    desk: Desk, export: tuple[Path, Path, str], gateway: httpx.Client
) -> None:
    tickets, comments, _ = export
    code, said = import_csv(desk, tickets, comments, "--dry-run")
    assert code == 1, said  # some rows cannot be tickets
    assert "csv:A-3: cannot map: column 'requester_email' is empty" in said, said
    assert "csv:A-4: cannot map: column 'status': 'stalled' is none of" in said, said
    assert "csv:A-1: not imported: comments line 4: column 'created': 'yesterday' is no ISO 8601 instant" in said
    assert "would import 2 tickets with 4 transactions" in said, said
    listed = gateway.get("/v1/tickets", params={"tag": "csv:a-1"})
    assert listed.json()["tickets"] == [], listed.text


def test_a_csv_export_arrives_with_its_comments_status_and_owner_and_a_second_run_adds_nothing(
    desk: Desk, export: tuple[Path, Path, str], gateway: httpx.Client
) -> None:
    tickets, comments, _ = export
    code, said = import_csv(desk, tickets, comments)
    assert "imported 2 tickets with 4 transactions" in said, said
    assert code == 1  # could not be imported

    invoice = by_ref(gateway, "csv:a-1")
    assert (invoice["title"], invoice["description"]) == ("Invoice missing", "The March invoice never came")
    assert (invoice["status"], invoice["priority"], invoice["type"]) == ("resolved", "P2", "question")
    assert invoice["group_id"] == "billing"
    assert invoice["agent_id"] is not None
    assert set(invoice["tags"]) == {"invoice", "march", "csv:a-1"}
    assert invoice["number"].startswith("SD-2019-")
    assert datetime.fromisoformat(invoice["created_at"]) == datetime.fromisoformat("2019-03-04T09:00:00+00:00")
    notes = [(c["body"], c["public"]) for c in invoice["comments"]]
    assert notes == [("Resent it today", True), ("ERP export was stuck", False)]
    history = gateway.get(f"/v1/tickets/{invoice['id']}/history").json()["events"]
    assert history[-1]["event"] == "resolved"
    assert datetime.fromisoformat(history[-1]["at"]) == datetime.fromisoformat("2019-03-05T16:30:00+00:00")
    laptop = by_ref(gateway, "csv:a-2")
    assert (laptop["status"], laptop["priority"]) == ("new", "P3")

    code, said = import_csv(desk, tickets, comments)
    assert "imported 0 tickets" in said, said
    assert "2 imported before" in said, said
    assert gateway.get(f"/v1/tickets/{invoice['id']}").json()["version"] == invoice["version"]


def test_an_import_killed_halfway_goes_on_where_it_stopped_and_imports_each_ticket_once(
    desk: Desk, tmp_path: Path, gateway: httpx.Client
) -> None:
    run = uuid4().hex[:6]
    rows = [{"id": f"K-{n}", "subject": f"Ticket {n}", "created": f"2018-01-01T{n % 24:02d}:00:00Z",
             "requester_email": f"p{n}-{run}@example.com", "tags": f"batch-{run}"} for n in range(120)]  # fmt: skip
    tickets, comments = tmp_path / "many.csv", tmp_path / "none.csv"
    for path, fields, content in ((tickets, list(rows[0]), rows), (comments, ["ticket_id"], [])):
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fields)
            writer.writeheader()
            writer.writerows(content)
    command = [sys.executable, "-m", "services.importer", "csv", str(tickets), "--tenant", TENANT]
    first = subprocess.Popen(command, env=desk.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def listed() -> list[Json]:
        found: list[Json] = gateway.get("/v1/tickets", params={"tag": f"batch-{run}", "limit": 200}).json()["tickets"]
        return found

    eventually(listed, lambda found: len(found) >= 5, every=0.05)
    first.kill()
    first.wait()

    code, said = import_csv(desk, tickets, comments)

    assert code == 0, said
    counts = re.search(r"imported (\d+) tickets .* (\d+) imported before", said)
    assert counts is not None, said
    now, before = int(counts[1]), int(counts[2])
    assert (now + before, before >= 5, now > 0) == (len(rows), True, True), said  # it went on where it stopped
    found = eventually(listed, lambda found: len(found) == len(rows))
    assert len({ticket["number"] for ticket in found}) == len(rows)  # each once, no number twice
