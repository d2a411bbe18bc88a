"""A draft trigger's what-if on real PostgreSQL and Kafka: tickets opened through the gateway fire the tenant's
trigger live; the what-if of a draft over the last day reports the tickets it would have touched, replays the
current book to the same firings as were recorded, and leaves the live desk as it was. The same from the
command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.client import eventually, headers, open_ticket, read_ticket, what_if_job
from tests.harness import Desk

TENANT = "acme"
ADMIN = headers(TENANT, "admin-1", ("admin",))
SUPERVISOR = headers(TENANT, "boss-1", ("supervisor",))
HOT = {"name": "Hot", "when": ["ticket.opened"], "if": [{"field": "priority", "op": "is", "value": "P1"}],
       "then": {"tags_add": ["hot"]}}  # fmt: skip
DRAFT = {"name": "Phone first", "when": ["ticket.opened"], "if": [{"field": "channel", "op": "is", "value": "phone"}],
         "then": {"tags_add": ["call-back"], "priority": "P2"}}  # fmt: skip


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    with desk.gateway("rules") as client:
        yield client


@pytest.fixture
def history(gateway: httpx.Client) -> dict[str, Any]:
    """A trigger, then tickets it fired on (and one it did not), each firing applied by intake."""
    made = gateway.post("/v1/triggers", json=HOT, headers=ADMIN)
    assert made.status_code == 201, made.text
    hot = [open_ticket(gateway, TENANT, priority="P1", channel="phone") for _ in range(2)]
    calm = open_ticket(gateway, TENANT, priority="P3", channel="email")
    for ticket_id in hot:
        tagged(gateway, ticket_id)
    return {"trigger": made.json(), "hot": hot, "calm": calm}


def tagged(client: httpx.Client, ticket_id: str) -> None:
    eventually(lambda: read_ticket(client, TENANT, ticket_id), lambda t: "hot" in t["tags"], timeout=90)


def firings(client: httpx.Client, trigger_id: str) -> list[dict[str, Any]]:
    reply = client.get(f"/v1/triggers/{trigger_id}/firings", headers=SUPERVISOR)
    assert reply.status_code == 200, reply.text
    return reply.json()["firings"]  # type: ignore[no-any-return]


def test_a_draft_triggers_what_if_reports_the_tickets_it_would_touch_and_the_live_desk_records_nothing(
    gateway: httpx.Client, history: dict[str, Any]
) -> None:
    before = {t: read_ticket(gateway, TENANT, t) for t in [*history["hot"], history["calm"]]}
    fired_before = firings(gateway, history["trigger"]["id"])

    report = what_if_job(gateway, ADMIN, {"kind": "trigger", "days": 1, "candidate": DRAFT}, timeout=120)["report"]

    touched = report["touched"]
    assert touched["tickets"] == 2
    assert touched["actions"] == {"priority": 2, "tags_add": 2}
    assert {e["ticket_id"] for e in touched["examples"]} == set(history["hot"])
    assert {e["number"] for e in touched["examples"]} == {before[t]["number"] for t in history["hot"]}
    assert report["differed"]["added"] == 2
    assert report["reproduces_history"]["differed"] == 0, report["reproduces_history"]
    assert report["reproduces_history"]["checked"] == 2

    listed = gateway.get("/v1/triggers", headers=SUPERVISOR).json()["triggers"]
    assert [t["name"] for t in listed] == ["Hot"]
    assert firings(gateway, history["trigger"]["id"]) == fired_before
    for ticket_id, was in before.items():
        now = read_ticket(gateway, TENANT, ticket_id)
        assert (now["tags"], now["priority"]) == (was["tags"], was["priority"])


def test_a_revised_trigger_under_its_current_definition_changes_nothing(
    gateway: httpx.Client, history: dict[str, Any]
) -> None:
    trigger = history["trigger"]
    same = {k: trigger[k] for k in ("name", "when", "match", "if", "then")} | {"trigger_id": trigger["id"]}
    report = what_if_job(gateway, ADMIN, {"kind": "trigger", "days": 1, "candidate": same}, timeout=120)["report"]
    assert (report["differed"]["added"], report["differed"]["removed"]) == (0, 0)
    assert report["touched"]["tickets"] == 2
    reproduced = report["reproduces_history"]
    assert (reproduced["checked"], reproduced["differed"], reproduced["examples"]) == (2, 0, [])


def test_a_wrong_draft_is_refused_naming_the_field_and_only_admins_may_ask(gateway: httpx.Client) -> None:
    wrong = DRAFT | {"if": [{"field": "channel", "op": "sounds_like", "value": "phone"}]}
    refused = gateway.post("/v1/what-if", json={"kind": "trigger", "days": 1, "candidate": wrong}, headers=ADMIN)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in refused.json()["errors"]] == ["candidate.if[0].op"]
    unknown = DRAFT | {"trigger_id": "6f1c2a4e-0000-4000-8000-000000000000"}
    missing = gateway.post("/v1/what-if", json={"kind": "trigger", "days": 1, "candidate": unknown}, headers=ADMIN)
    assert [e["field"] for e in missing.json()["errors"]] == ["candidate.trigger_id"]
    agent = gateway.post("/v1/what-if", json={"kind": "trigger", "days": 1, "candidate": DRAFT},
                         headers=headers(TENANT, "agent-1", ("agent",)))  # fmt: skip
    assert agent.status_code == 403
    assert gateway.get("/v1/what-if/trigger-nope", headers=ADMIN).status_code == 404


def what_if_command(desk: Desk, draft: dict[str, Any], folder: Path) -> subprocess.CompletedProcess[str]:
    """`python -m services.rules what-if` on the last day of `desk`, with `draft` in a file of `folder`."""
    candidate = folder / "draft.json"
    candidate.write_text(json.dumps(draft))
    return subprocess.run(
        [sys.executable, "-m", "services.rules", "what-if", "--tenant", TENANT, "--days", "1", "--candidate",
         str(candidate)],
        env=os.environ | desk.env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_the_command_line_prints_the_report(desk: Desk, history: dict[str, Any], tmp_path: Path) -> None:
    done = what_if_command(desk, DRAFT, tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["touched"]["tickets"] == 2
    assert report["reproduces_history"]["differed"] == 0
    assert "rules what-if" in done.stderr, "a progress bar on stderr"


def test_a_draft_counting_business_hours_replays_in_the_hours_of_the_sla_calendar_it_names(
    desk: Desk, tmp_path: Path
) -> None:
    desk.service("sla").start()  # first: the rules service reads its calendars
    with desk.gateway("rules") as gateway:
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        always = {"time_zone": "UTC", "weekly": {day: [["00:00", "24:00"]] for day in days}}
        elsewhen_day = days[(datetime.now(UTC).weekday() + 3) % 7]  # open neither today nor yesterday
        elsewhen = {"time_zone": "UTC", "weekly": {elsewhen_day: [["09:00", "17:00"]]}}
        for name, spec in (("always", always), ("elsewhen", elsewhen)):
            assert gateway.put(f"/v1/sla/calendars/{name}", json=spec, headers=ADMIN).status_code == 200
        assert gateway.post("/v1/triggers", json=HOT, headers=ADMIN).status_code == 201
        opened = [open_ticket(gateway, TENANT, priority="P1") for _ in range(2)]
        for ticket_id in opened:
            tagged(gateway, ticket_id)
        time.sleep(2)  # the draft falls due a second after each opening, in business time that is always open

        def waiting(calendar: str) -> dict[str, Any]:
            since = {"field": "hours_since", "of": "opened", "op": "greater", "value": 0.0003,
                     "business_hours": True, "calendar": calendar}  # fmt: skip
            return {"name": "Open a while", "when": ["time"], "if": [since], "then": {"tags_add": ["a-while"]}}

        body = {"kind": "trigger", "days": 1, "candidate": waiting("always")}
        report = what_if_job(gateway, ADMIN, body, timeout=120)["report"]
        assert report["touched"]["tickets"] == 2
        assert {e["ticket_id"] for e in report["touched"]["examples"]} == set(opened)
        body = {"kind": "trigger", "days": 1, "candidate": waiting("elsewhen")}
        assert what_if_job(gateway, ADMIN, body, timeout=120)["report"]["touched"]["tickets"] == 0
        unknown = {"kind": "trigger", "days": 1, "candidate": waiting("nowhere")}
        refused = gateway.post("/v1/what-if", json=unknown, headers=ADMIN)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["candidate.if[0].calendar"]
        assert not any("a-while" in read_ticket(gateway, TENANT, t)["tags"] for t in opened)
        done = what_if_command(desk, waiting("always"), tmp_path)  # the command line reads the calendar too
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["touched"]["tickets"] == 2
