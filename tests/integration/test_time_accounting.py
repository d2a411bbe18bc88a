"""Time accounting through the gateway on real PostgreSQL and Kafka, with analytics behind it: time logged
with a reply (one save) or alone, a wrong entry corrected by a new one, never edited; the tenant's activity
types the admin's to change; bad entries refused naming their field; the time report summed per agent and
month, as JSON and CSV; and an erased customer's time kept, its note gone."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.intake.privacy.personal_data import ERASED
from tests.client import eventually, open_ticket
from tests.harness import Desk
from tests.tokens import token

TENANT = "acme"


def person(subject: str, *roles: str, groups: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(TENANT, subject, roles=roles, groups=groups)}"}


ADMIN = person("admin-1", "admin")
AGENT = person("agent-1", "agent", groups=("network",))
COLLEAGUE = person("agent-2", "agent", groups=("network",))
SUPERVISOR = person("boss-1", "supervisor", groups=("network",))
CUSTOMER = person("customer-42", "customer")


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    with desk.gateway("analytics") as client:
        for key, label, billable in (("support", "Support", True), ("travel", "Travel", False)):
            reply = client.put(
                f"/v1/time-activity-types/{key}", json={"label": label, "billable": billable}, headers=ADMIN
            )
            assert reply.status_code == 200, reply.text
        yield client


def a_ticket(gateway: httpx.Client, requester_id: str = "customer-42", **form: Any) -> str:
    ticket_id = open_ticket(gateway, TENANT, requester_id=requester_id, **form)
    assigned = gateway.put(
        f"/v1/tickets/{ticket_id}/assignment", json={"group_id": "network", "reason": "ours"}, headers=ADMIN
    )
    assert assigned.status_code == 200, assigned.text
    return ticket_id


def log(gateway: httpx.Client, ticket_id: str, who: dict[str, str] = AGENT, **entry: Any) -> httpx.Response:
    return gateway.post(f"/v1/tickets/{ticket_id}/time-entries", json=entry, headers=who)


def sheet(gateway: httpx.Client, ticket_id: str, who: dict[str, str] = AGENT) -> dict[str, Any]:
    reply = gateway.get(f"/v1/tickets/{ticket_id}/time-entries", headers=who)
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def fields_of(reply: httpx.Response) -> list[str]:
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in reply.json()["errors"]]


def test_an_agent_logs_time_with_a_reply(gateway: httpx.Client) -> None:
    ticket_id = a_ticket(gateway)
    entry = {"minutes": 25, "activity": "support", "note": "Restarted the VPN gateway", "worked_on": "2026-11-30"}
    replied = gateway.post(
        f"/v1/tickets/{ticket_id}/comments",
        json={"body": "We restarted the VPN.", "public": True, "time_entry": entry},
        headers=AGENT,
    )

    assert replied.status_code == 201, replied.text
    logged = sheet(gateway, ticket_id)
    assert [
        (e["minutes"], e["activity"], e["billable"], e["note"], e["agent_id"], e["worked_on"])
        for e in logged["entries"]
    ] == [(25, "support", True, "Restarted the VPN gateway", "agent-1", "2026-11-30")]
    assert (logged["minutes"], logged["billable_minutes"]) == (25, 25)
    history = gateway.get(f"/v1/tickets/{ticket_id}/history", headers=AGENT).json()["events"]
    saved = history[-2:]
    assert [e["event"] for e in saved] == ["comment_added", "time_logged"]
    assert saved[0]["correlation_id"] == saved[1]["correlation_id"], "one save"
    customer_sees = gateway.get(f"/v1/tickets/{ticket_id}/history", headers=CUSTOMER).json()["events"]
    assert "time_logged" not in [e["event"] for e in customer_sees]
    assert gateway.get(f"/v1/tickets/{ticket_id}/time-entries", headers=CUSTOMER).status_code == 403
    customer_logs = gateway.post(
        f"/v1/tickets/{ticket_id}/comments", json={"body": "Thanks", "public": True, "time_entry": entry},
        headers=CUSTOMER,
    )  # fmt: skip
    assert customer_logs.status_code == 403


def test_a_wrong_entry_is_corrected_by_a_new_one(gateway: httpx.Client) -> None:
    ticket_id = a_ticket(gateway)
    wrong = log(gateway, ticket_id, minutes=90, activity="support", note="Call with the customer")
    assert wrong.status_code == 201, wrong.text
    wrong_id = wrong.json()["entries"][0]["id"]
    travel = log(gateway, ticket_id, minutes=30, activity="travel")
    assert travel.status_code == 201, travel.text

    corrected = log(gateway, ticket_id, minutes=45, activity="support", note="Call, 45 min", corrects=wrong_id)
    again = log(gateway, ticket_id, minutes=40, activity="support", corrects=wrong_id)

    assert corrected.status_code == 201, corrected.text
    entries = corrected.json()["entries"]
    assert [(e["minutes"], e["corrects"], e["corrected_by"] is not None) for e in entries] == [
        (90, None, True), (30, None, False), (45, wrong_id, False)
    ]  # fmt: skip
    assert entries[0]["corrected_by"] == entries[2]["id"]
    assert (corrected.json()["minutes"], corrected.json()["billable_minutes"]) == (75, 45)
    assert fields_of(again) == ["corrects"], "a corrected entry is corrected through its correction"
    withdrawn = log(gateway, ticket_id, minutes=0, activity="travel", corrects=entries[1]["id"])
    assert withdrawn.status_code == 201, withdrawn.text
    assert (withdrawn.json()["minutes"], withdrawn.json()["billable_minutes"]) == (45, 45)


def test_bad_time_entries_are_refused_naming_the_field(gateway: httpx.Client) -> None:
    ticket_id = a_ticket(gateway)
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()

    assert fields_of(log(gateway, ticket_id, minutes=-15, activity="support")) == ["minutes"]
    assert fields_of(log(gateway, ticket_id, minutes=0, activity="support")) == ["minutes"]
    assert fields_of(log(gateway, ticket_id, minutes=15, activity="golf")) == ["activity"]
    assert fields_of(log(gateway, ticket_id, minutes=15, activity="support", worked_on=tomorrow)) == ["worked_on"]
    assert fields_of(log(gateway, ticket_id, minutes=15, activity="support", corrects="t-nope")) == ["corrects"]
    with_reply = gateway.post(
        f"/v1/tickets/{ticket_id}/comments",
        json={"body": "Done", "public": True, "time_entry": {"minutes": 10, "activity": "golf"}},
        headers=AGENT,
    )
    assert fields_of(with_reply) == ["time_entry.activity"]
    assert gateway.get(f"/v1/tickets/{ticket_id}", headers=AGENT).json()["comments"] == [], "nothing saved"
    assert sheet(gateway, ticket_id)["entries"] == []


def test_activity_types_are_the_admins_to_change(gateway: httpx.Client) -> None:
    refused = gateway.put("/v1/time-activity-types/golf", json={"label": "Golf"}, headers=AGENT)
    listed = gateway.get("/v1/time-activity-types", headers=AGENT)
    retired = gateway.delete("/v1/time-activity-types/travel", headers=ADMIN)

    assert refused.status_code == 403
    assert listed.json()["activity_types"] == {
        "support": {"label": "Support", "billable": True, "retired": False},
        "travel": {"label": "Travel", "billable": False, "retired": False},
    }
    assert list(retired.json()["activity_types"]) == ["support"]
    assert fields_of(log(gateway, a_ticket(gateway), minutes=15, activity="travel")) == ["activity"]


def time_report(gateway: httpx.Client, **params: str) -> httpx.Response:
    reply = gateway.get("/v1/reports/time", params=params, headers=SUPERVISOR)
    assert reply.status_code == 200, reply.text
    return reply


def test_the_time_report_sums_billable_minutes_per_agent_and_month(gateway: httpx.Client) -> None:
    first, second = a_ticket(gateway, organisation="initech"), a_ticket(gateway, requester_id="customer-7")
    assert log(gateway, first, minutes=60, activity="support", worked_on="2026-10-30").status_code == 201
    assert log(gateway, first, minutes=30, activity="travel", worked_on="2026-10-31").status_code == 201
    assert log(gateway, second, COLLEAGUE, minutes=20, activity="support", worked_on="2026-11-02").status_code == 201
    wrong = log(gateway, second, minutes=50, activity="support", worked_on="2026-11-03")
    fixed = log(gateway, second, minutes=15, activity="support", worked_on="2026-11-03",
                corrects=wrong.json()["entries"][-1]["id"])  # fmt: skip
    assert fixed.status_code == 201, fixed.text
    period = {"from": "2026-10-01", "to": "2026-11-30"}

    report = eventually(
        lambda: time_report(gateway, group_by="agent,month", **period).json(),
        lambda r: r["minutes"] == 125, timeout=60,
    )  # fmt: skip
    as_csv = time_report(gateway, group_by="agent,month", format="csv", **period)
    by_customer = time_report(gateway, group_by="customer,organisation", **period).json()

    assert report["rows"] == [
        {"agent": "agent-1", "month": "2026-10", "entries": 2, "minutes": 90, "billable_minutes": 60},
        {"agent": "agent-1", "month": "2026-11", "entries": 1, "minutes": 15, "billable_minutes": 15},
        {"agent": "agent-2", "month": "2026-11", "entries": 1, "minutes": 20, "billable_minutes": 20},
    ]
    assert (report["minutes"], report["billable_minutes"]) == (125, 95)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(as_csv.text))) == [
        {"agent": "agent-1", "month": "2026-10", "entries": "2", "minutes": "90", "billable_minutes": "60"},
        {"agent": "agent-1", "month": "2026-11", "entries": "1", "minutes": "15", "billable_minutes": "15"},
        {"agent": "agent-2", "month": "2026-11", "entries": "1", "minutes": "20", "billable_minutes": "20"},
    ]
    assert [(r["customer"], r["organisation"], r["minutes"]) for r in by_customer["rows"]] == [
        ("customer-42", "initech", 90), ("customer-7", None, 35)
    ]  # fmt: skip
    october = time_report(gateway, group_by="month", **{"from": "2026-10-01", "to": "2026-10-31"}).json()
    assert [(r["month"], r["minutes"]) for r in october["rows"]] == [("2026-10", 90)]  # the period ends on `to`
    assert gateway.get("/v1/reports/time", params={"group_by": "weather"}, headers=SUPERVISOR).status_code == 422
    assert gateway.get("/v1/reports/time", headers=AGENT).status_code == 403


def test_erasing_a_customer_keeps_the_minutes_and_drops_the_name(gateway: httpx.Client) -> None:
    requester = f"customer-{datetime.now(UTC).timestamp():.0f}"
    ticket_id = a_ticket(gateway, requester_id=requester)
    today = date.today().isoformat()
    logged = log(gateway, ticket_id, minutes=40, activity="support", note="Called Ivan Petrov at home")
    assert logged.status_code == 201, logged.text
    eventually(lambda: time_report(gateway, group_by="customer").json(), lambda r: r["entries"] == 1, timeout=60)

    erased = gateway.post(f"/v1/people/{requester}/erasure", json={"reason": "GDPR art. 17"}, headers=ADMIN)

    assert erased.status_code == 200, erased.text
    kept = sheet(gateway, ticket_id)
    assert [(e["minutes"], e["note"], e["worked_on"]) for e in kept["entries"]] == [(40, ERASED, today)]
    assert kept["minutes"] == 40
    history = gateway.get(f"/v1/tickets/{ticket_id}/history", headers=ADMIN).json()["events"]
    assert history[-1]["changes"]["note"] == ERASED
    assert gateway.get(f"/v1/tickets/{ticket_id}/verify", headers=ADMIN).json()["intact"] is True
    report = time_report(gateway, group_by="customer").json()
    assert [(r["customer"], r["minutes"]) for r in report["rows"]] == [(requester, 40)]
