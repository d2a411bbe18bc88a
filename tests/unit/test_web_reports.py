"""The reports' pages and each person's preferences, against an API that answers like the gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient

from services.web.search import Query
from services.web.sessions import Session, SessionStore
from tests.unit.test_web_pages import SignedInAs, pages_over

REPORTS: dict[str, dict[str, Any]] = {
    "/v1/reports/backlog": {
        "open": 3, "by_status": {"new": 2, "open": 1}, "by_priority": {"P1": 1, "P3": 2},
        "by_group": {"first-line": 2, "none": 1}, "by_agent": {"agent-ann": 2, "none": 1}, "by_channel": {"email": 3},
        "by_age": {"under 1 day": 3, "1-3 days": 0},
    },
    "/v1/reports/flow": {
        "from": "2026-11-01", "to": "2026-11-03", "buckets": [{"day": "2026-11-02", "opened": 4, "resolved": 1,
        "reopened": 0}], "opened": 4, "resolved": 1, "reopened": 0, "reopen_rate_percent": 0.0,
    },
    "/v1/reports/service-levels": {
        "from": "2026-11-01", "to": "2026-11-03", "metrics": {"first_response": {
            "targets": 4, "met_in_time": 3, "breached": 1, "breached_still_open": 1, "compliance_percent": 75.0,
            "median_seconds": 5400, "p90_seconds": 7200, "median_wall_clock_seconds": 9000,
            "p90_wall_clock_seconds": 10000}},
    },
    "/v1/reports/agents": {
        "from": "2026-11-01", "to": "2026-11-03",
        "agents": [{"agent_id": "agent-ann", "group_id": "first-line", "open": 2, "resolved": 5}],
    },
    "/v1/reports/csat": {
        "from": "2026-11-01", "to": "2026-11-03", "surveys": 4, "answered": 2, "response_rate_percent": 50.0,
        "average_score": 4.5, "scores": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
    },
}  # fmt: skip


def desk(tmp_path: Path, asked: list[httpx.Request]) -> tuple[TestClient, SignedInAs]:
    def api(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if request.url.path in REPORTS:
            if request.url.params.get("from", "") > request.url.params.get("to", "9"):
                return httpx.Response(422, json={"detail": "`from` is after `to`", "field": "from"})
            return httpx.Response(200, json=REPORTS[request.url.path])
        return httpx.Response(200, json={"tickets": [], "next_cursor": None, "groups": []})

    return pages_over(tmp_path, api)


def person(sessions: SessionStore, roles: list[str], locale: str | None = "en") -> Session:
    return sessions.begin(
        tenant="acme", subject=f"{roles[0]}-1", name="Someone", roles=roles, groups=["first-line"],
        access_token="token", expires=datetime.now(UTC) + timedelta(hours=1), locale=locale, organisation=None,
    )  # fmt: skip


def test_a_supervisor_reads_every_report_as_a_chart_and_a_table(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    client, sign_in = desk(tmp_path, asked)
    sign_in.person = person(sign_in.sessions, ["supervisor"])
    for name in ("backlog", "flow", "service-levels", "agents", "csat"):
        page = client.get(f"/reports/{name}", params={"group": "first-line"})
        assert page.status_code == 200, name
        assert '<svg role="img"' in page.text, name
        assert "<table" in page.text, name
    assert asked[-1].url.params["group"] == "first-line"
    assert "2 hours" in client.get("/reports/service-levels").text  # 5,400 s, in words


def test_a_backlog_number_links_to_a_search_with_the_same_filters(tmp_path: Path) -> None:
    client, sign_in = desk(tmp_path, [])
    sign_in.person = person(sign_in.sessions, ["supervisor"])
    page = client.get("/reports/backlog", params={"group": "first-line", "channel": "email"}).text
    link = next(part.split('"')[0] for part in page.split('href="') if "priority%3AP3" in part)
    q = parse_qs(urlsplit(link.replace("&amp;", "&")).query)["q"][0]
    assert set(q.split()) == {"group:first-line", "channel:email", "status:new,open,pending", "priority:P3"}
    assert Query.parse(q, "me").listing() == {
        "group_id": "first-line",
        "channel": "email",
        "status": ["new", "open", "pending"],
        "priority": "P3",
    }


def test_a_day_of_the_flow_lists_the_tickets_opened_that_day() -> None:
    query = Query.parse("opened:2026-11-02 group:first-line", "me")
    assert query.listing() == {
        "group_id": "first-line",
        "created_from": "2026-11-02T00:00:00+00:00",
        "created_to": "2026-11-03T00:00:00+00:00",
    }
    assert query.admits({"group_id": "first-line", "created_at": "2026-11-02T23:59:00+00:00"})
    assert not query.admits({"group_id": "first-line", "created_at": "2026-11-03T00:00:00+00:00"})
    period = Query.parse("opened:2026-11-01..2026-11-30", "me").listing()
    assert period["created_to"] == "2026-12-01T00:00:00+00:00"


def test_a_period_that_ends_before_it_starts_is_named_beside_its_field(tmp_path: Path) -> None:
    client, sign_in = desk(tmp_path, [])
    sign_in.person = person(sign_in.sessions, ["supervisor"])
    page = client.get("/reports/flow", params={"from": "2026-11-05", "to": "2026-11-01"})
    assert page.status_code == 422
    assert 'id="from-error"' in page.text
    assert "is after" in page.text


def test_an_agent_is_refused_the_reports(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    client, sign_in = desk(tmp_path, asked)
    sign_in.person = person(sign_in.sessions, ["agent"])
    assert client.get("/reports/backlog").status_code == 403
    assert not [r for r in asked if r.url.path.startswith("/v1/reports")]
    assert 'href="/reports/backlog"' not in client.get("/queues/mine").text


def test_a_persons_language_and_time_zone_are_kept_for_their_next_sign_in(tmp_path: Path) -> None:
    client, sign_in = desk(tmp_path, [])
    sign_in.person = person(sign_in.sessions, ["agent"])
    token = sign_in.person.csrf_token
    wrong = client.post("/preferences", data={"language": "ru", "time_zone": "Mars/Olympus", "csrf_token": token})
    assert wrong.status_code == 422
    assert 'id="time_zone-error"' in wrong.text
    chosen = {"language": "ru", "time_zone": "Asia/Tokyo", "csrf_token": token, "back": "/queues/mine?x=1"}
    done = client.post("/preferences", data=chosen)
    assert done.status_code == 303
    assert done.headers["location"] == "/queues/mine?x=1"
    now = sign_in.sessions.get(sign_in.person.session_id)
    assert now is not None
    assert (now.locale, now.time_zone) == ("ru", "Asia/Tokyo")
    kept = sign_in.preferences.at_sign_in("acme", "agent-1", {"locale": "en", "zoneinfo": "Europe/London"})
    assert (kept.language, kept.time_zone) == ("ru", "Asia/Tokyo")
    fresh = sign_in.preferences.at_sign_in("acme", "agent-2", {"locale": "en", "zoneinfo": "Europe/London"})
    assert (fresh.language, fresh.time_zone) == ("en", "Europe/London")
    assert client.post("/preferences", data={"language": "ru"}).status_code == 403
    away = client.post("/preferences", data=chosen | {"back": "https://elsewhere.example/x"})
    assert away.headers["location"] == "/"
