"""Moving in from a real Request Tracker 5, the relations between its tickets: links (refers to, depends on,
member of, and their other sides, one made as a ticket was created), a ticket merged into another and a
ticket moved to another queue, filled through RT's own APIs and imported through `python -m services.importer
rt` into a desk on real Kafka and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from uuid import uuid4

import httpx
import pytest

from tests.harness import Desk
from tests.imports import TENANT, Json, admin_gateway, by_ref
from tests.request_tracker import RequestTracker

# One Request Tracker for the run, which its session fixture starts and stops: its tests run in one process.
pytestmark = pytest.mark.serial


def import_rt(desk: Desk, rt: RequestTracker, query: str, *extra: str) -> str:
    command = [sys.executable, "-m", "services.importer", "rt", "--url", rt.url, "--token", rt.token,
               "--tenant", TENANT, "--query", query, *extra]  # fmt: skip
    done = subprocess.run(command, env=desk.env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return " ".join(done.stderr.split())


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def slug(queue: str) -> str:
    return queue.lower().replace(" ", "-")


@pytest.fixture(scope="module")
def related(request_tracker: RequestTracker) -> dict[str, str]:
    """One office's tickets, related as RT relates them: a printer ticket, member of an office move, that
    refers to a cable ticket (later moved to another queue), with a duplicate merged into it and a follow-up
    that referred to it as it was created; the cable ticket refers to a ticket of another team's queue."""
    rt = request_tracker
    run = uuid4().hex[:8]
    names = {"queue": f"Office {run}", "moved": f"Cabling {run}", "elsewhere": f"Facilities {run}"}
    for name in names.values():
        rt.create_queue(name)
    office, moved, elsewhere = names["queue"], names["moved"], names["elsewhere"]
    who = f"eva-{run}@example.com"
    ids = {
        "move": rt.create_ticket(office, "Office move", who, "Third floor by June", 50),
        "printer": rt.create_ticket(office, "Printer jams", who, "Every page", 50),
        "duplicate": rt.create_ticket(office, "Printer jams again", who, "Second floor too", 50),
        "cable": rt.create_ticket(office, "Network cable missing", who, "Room 301", 50),
        "outside": rt.create_ticket(elsewhere, "Desk too low", who, "Room 301", 50),
    }
    rt.correspond(ids["duplicate"], "Same here, second floor")
    rt.update(ids["printer"], MemberOf=ids["move"], RefersTo=ids["cable"])
    rt.update(ids["cable"], RefersTo=ids["outside"])
    ids["follow"] = rt.create_ticket(office, "Printer still jams", who, "After the fix", 50, RefersTo=ids["printer"])
    rt.merge(ids["duplicate"], ids["printer"])
    rt.correspond(ids["printer"], "Replaced the roller")
    rt.update(ids["cable"], Queue=moved)
    return ids | names


def query_of(related: dict[str, str]) -> str:
    return f"Queue = '{related['queue']}' OR Queue = '{related['moved']}'"


@pytest.fixture
def gateway(desk: Desk) -> httpx.Client:
    return admin_gateway(desk)


def history(gateway: httpx.Client, ticket: Json) -> list[Json]:
    events: list[Json] = gateway.get(f"/v1/tickets/{ticket['id']}/history").json()["events"]
    return events


def test_a_merged_rt_ticket_is_found_by_its_old_number(
    desk: Desk, request_tracker: RequestTracker, related: dict[str, str], gateway: httpx.Client
) -> None:
    said = import_rt(desk, request_tracker, query_of(related))
    assert "imported 4 tickets" in said, said  # the duplicate is no ticket RT lists: it comes with the printer's

    printer = by_ref(gateway, f"rt:{related['printer']}")
    duplicate = by_ref(gateway, f"rt:{related['duplicate']}")
    assert duplicate["imported_from"]["id"] == related["duplicate"]
    assert (duplicate["status"], duplicate["merged_into"]) == ("closed", printer["id"])
    assert duplicate["title"] == "Printer jams again"
    assert [c["body"] for c in duplicate["comments"]] == ["Same here, second floor"]
    assert printer["merged_from"] == [duplicate["id"]]
    assert [c["body"] for c in printer["comments"]] == ["Replaced the roller"]  # its own, the duplicate's stay there

    theirs = request_tracker.history(related["printer"])
    merged_at = next(instant(t["Created"]) for t in theirs if t["Field"] == "MergedInto")
    [received] = [e for e in history(gateway, printer) if e["event"] == "merge_received"]
    assert (instant(received["at"]), received["changes"]["source_id"]) == (merged_at, duplicate["id"])
    [merge] = [e for e in history(gateway, duplicate) if e["event"] == "merged_into"]
    assert instant(merge["at"]) == merged_at


def test_request_tracker_links_and_queue_moves_arrive_as_links_and_group_changes(
    desk: Desk, request_tracker: RequestTracker, related: dict[str, str], gateway: httpx.Client
) -> None:
    import_rt(desk, request_tracker, query_of(related))
    move, printer, cable, follow = (by_ref(gateway, f"rt:{related[k]}") for k in ("move", "printer", "cable", "follow"))

    assert printer["links"] == {move["id"]: "child_of", cable["id"]: "related", follow["id"]: "related"}
    assert move["links"] == {printer["id"]: "parent_of"}
    assert cable["links"] == {printer["id"]: "related"}  # its link to another team's ticket was not imported
    assert follow["links"] == {printer["id"]: "related"}  # linked as it was created: RT records it on the printer

    linked = {e["changes"]["ticket_id"]: e for e in history(gateway, printer) if e["event"] == "linked"}
    theirs = {t["NewValue"].rsplit("/", 1)[-1]: t for t in request_tracker.history(related["printer"])
              if t["Type"] == "AddLink"}  # fmt: skip
    assert instant(linked[move["id"]]["at"]) == instant(theirs[related["move"]]["Created"])
    assert "MemberOf" in linked[move["id"]]["reason"]
    # made as the follow-up opened: at its Created, which RT stamps before its Create transaction
    assert instant(linked[follow["id"]]["at"]) == instant(request_tracker.ticket(related["follow"])["Created"])

    # the cable ticket moved to another queue: a change of group, when it moved
    assert cable["group_id"] == slug(related["moved"])
    events = history(gateway, cable)
    assert events[0]["changes"]["group_id"] == slug(related["queue"])  # opened in the queue it was opened in
    [moved] = [e for e in events if e["event"] == "assigned"]
    [move_there] = [t for t in request_tracker.history(related["cable"]) if t["Field"] == "Queue"]
    assert moved["changes"]["group_id"] == slug(related["moved"])
    assert instant(moved["at"]) == instant(move_there["Created"])


def test_a_dry_run_lists_a_link_to_a_ticket_outside_the_import_with_the_reason(
    desk: Desk, request_tracker: RequestTracker, related: dict[str, str], gateway: httpx.Client
) -> None:
    said = import_rt(desk, request_tracker, query_of(related), "--dry-run")

    reason = f"RefersTo RT #{related['outside']}: that ticket is not in this import, nor imported before"
    assert f"rt:{related['cable']}: not imported: transaction" in said, said
    assert reason in said, said
    assert "would import 4 tickets" in said, said
    assert gateway.get("/v1/tickets", params={"tag": f"rt:{related['cable']}"}).json()["tickets"] == []
