"""Moving in from a real Request Tracker 5: tickets filled through RT's own REST2 API, imported with their
history through `python -m services.importer rt` into a desk on real Kafka and PostgreSQL, and compared
field by field, event by event."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import datetime
from uuid import uuid4

import httpx
import pytest

from tests.harness import Desk
from tests.imports import TENANT, admin_gateway, by_ref
from tests.request_tracker import RequestTracker

# One Request Tracker for the run, which its session fixture starts and stops: its tests run in one process.
pytestmark = pytest.mark.serial

LOG = b"12:00:01 ERROR out of memory\n"


def import_rt(desk: Desk, rt: RequestTracker, queue: str, *extra: str) -> str:
    command = [sys.executable, "-m", "services.importer", "rt", "--url", rt.url, "--token", rt.token,
               "--tenant", TENANT, "--query", f"Queue = '{queue}'", *extra]  # fmt: skip
    done = subprocess.run(command, env=desk.env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return " ".join(done.stderr.split())


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def filled(request_tracker: RequestTracker) -> tuple[str, dict[str, str]]:
    """A queue of its own with a ticket worked to resolution and one stalled."""
    rt = request_tracker
    queue = f"Imports {uuid4().hex[:8]}"
    rt.create_queue(queue)
    printer = rt.create_ticket(queue, "Printer on fire", f"jane-{uuid4().hex[:6]}@example.com", "It smokes", 50)
    rt.correspond(printer, "We are on it")
    rt.comment(printer, "check the fuser first")
    rt.update(printer, Owner="root", Priority=95)
    rt.update(printer, Status="resolved")
    vpn = rt.create_ticket(queue, "VPN drops", f"omar-{uuid4().hex[:6]}@example.com", "Every ten minutes", 20)
    rt.update(vpn, Status="stalled")
    logs = rt.create_ticket(queue, "App crashes", f"kim-{uuid4().hex[:6]}@example.com", "Log attached", 50,
                            files={"app.log": LOG})  # fmt: skip
    return queue, {"printer": printer, "vpn": vpn, "logs": logs}


@pytest.fixture
def gateway(desk: Desk) -> httpx.Client:
    return admin_gateway(desk)


def test_a_request_tracker_ticket_arrives_with_its_history_as_it_happened(
    desk: Desk, request_tracker: RequestTracker, filled: tuple[str, dict[str, str]], gateway: httpx.Client
) -> None:
    queue, ids = filled
    rt = request_tracker
    said = import_rt(desk, rt, queue)
    assert "imported 3 tickets" in said, said

    original = rt.ticket(ids["printer"])
    ticket = by_ref(gateway, f"rt:{ids['printer']}")
    assert ticket["imported_from"] == {"system": "rt", "url": rt.url, "id": ids["printer"]}
    assert (ticket["title"], ticket["description"]) == ("Printer on fire", "It smokes")
    assert (ticket["status"], ticket["priority"]) == ("resolved", "P1")  # RT's priority 95
    assert ticket["group_id"] == queue.lower().replace(" ", "-")
    assert ticket["agent_id"] is not None
    assert ticket["agent_id"] != ticket["requester_id"]
    assert instant(ticket["created_at"]) == instant(original["Created"])
    replies = [(c["body"], c["public"], c["author_kind"]) for c in ticket["comments"]]
    assert replies == [("We are on it", True, "staff"), ("check the fuser first", False, "staff")]

    history = gateway.get(f"/v1/tickets/{ticket['id']}/history").json()["events"]
    kept = {"Create": "opened", "Correspond": "comment_added", "Comment": "comment_added", "Status": None,
            "Set": None}  # fmt: skip
    theirs = [t for t in rt.history(ids["printer"]) if t["Type"] in kept]
    assert [e["event"] for e in history] == [
        "opened",
        "comment_added",
        "work_started",
        "comment_added",
        "assigned",
        "priority_changed",
        "resolved",
    ]
    # it opens at the ticket's Created, which RT stamps before its Create transaction (a second apart at times)
    create, *steps = theirs
    assert create["Type"] == "Create"
    when = [instant(original["Created"])] + [instant(t["Created"]) for t in steps]
    assert [instant(e["at"]) for e in history] == when
    assert "survey_requested" not in [e["event"] for e in history]  # resolved long ago: nobody is asked

    stalled = by_ref(gateway, f"rt:{ids['vpn']}")
    assert (stalled["status"], stalled["waiting_for"], stalled["priority"]) == ("pending", "third_party", "P4")

    crashed = by_ref(gateway, f"rt:{ids['logs']}")
    [file] = crashed["attachments"]
    assert (file["filename"], file["size"], file["sha256"]) == ("app.log", len(LOG), hashlib.sha256(LOG).hexdigest())
    assert gateway.get(f"/v1/tickets/{crashed['id']}/attachments/{file['id']}").content == LOG


def test_importing_the_same_request_tracker_again_imports_nothing_twice(
    desk: Desk, request_tracker: RequestTracker, filled: tuple[str, dict[str, str]], gateway: httpx.Client
) -> None:
    queue, ids = filled
    import_rt(desk, request_tracker, queue)
    first = by_ref(gateway, f"rt:{ids['printer']}")

    said = import_rt(desk, request_tracker, queue)

    assert "imported 0 tickets" in said, said
    assert "3 imported before" in said, said
    again = gateway.get(f"/v1/tickets/{first['id']}").json()
    assert (again["version"], again["number"]) == (first["version"], first["number"])


def test_a_dry_run_says_what_it_would_import_and_records_nothing(
    desk: Desk, request_tracker: RequestTracker, filled: tuple[str, dict[str, str]], gateway: httpx.Client
) -> None:
    queue, ids = filled
    said = import_rt(desk, request_tracker, queue, "--dry-run")
    assert f"rt:{ids['printer']}: would import 'Printer on fire'" in said, said
    assert "would import 3 tickets" in said, said
    assert gateway.get("/v1/tickets", params={"tag": f"rt:{ids['printer']}"}).json()["tickets"] == []
