"""The knowledge base's report on real Kafka and PostgreSQL: reads, "did this help?" and self-service
attempts recorded through the gateway reach analytics over `knowledge.articles`, counted per article and
per channel and day (the deflection rate), and a rebuild from the topic's history gives the same rows."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.analytics.projections import AnalyticsProjection
from services.chassis.storage.store import tracking_recorder
from tests.client import eventually, headers
from tests.harness import Desk
from tests.infra import ROOT

TENANT = "acme"


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    with desk.gateway("knowledge", "analytics") as client:
        yield client


def knowledge(client: httpx.Client, **params: str) -> dict[str, Any]:
    reply = client.get("/v1/reports/knowledge", params=params, headers=headers(TENANT, roles=("supervisor",)))
    assert reply.status_code == 200, reply.text
    report: dict[str, Any] = reply.json()
    return report


def sent(reply: httpx.Response, status: int = 202) -> httpx.Response:
    assert reply.status_code == status, reply.text
    return reply


def published_article(client: httpx.Client, title: str) -> str:
    staff = headers(TENANT, "agent-ann", roles=("agent",))
    body = {"language": "en", "title": title, "body": "Quit the client, then start it again.", "category": None,
            "tags": ["vpn"], "visibility": "public", "organisations": [], "translation_of": None,
            "source_ticket": None}  # fmt: skip
    article_id = str(sent(client.post("/v1/kb/articles", json=body, headers=staff), 201).json()["id"])
    sent(client.post(f"/v1/kb/articles/{article_id}/publish", headers=staff), 200)
    return article_id


def read_and_rated(client: httpx.Client) -> tuple[str, str]:
    """Two articles: the first read three times and rated twice helpful, once not; the second read once.
    Four self-service attempts: two solved and one not on the portal, one not in the chat."""
    reader = headers(TENANT, "customer-kim", roles=("customer",))
    vpn, printer = published_article(client, "Reset the VPN client"), published_article(client, "Printer offline")
    for read, channel in [(vpn, "portal"), (vpn, "portal"), (vpn, "web"), (printer, "chat")]:
        sent(client.post(f"/v1/kb/articles/{read}/views", json={"channel": channel}, headers=reader))
    for helpful, channel in [(True, "portal"), (True, "web"), (False, "chat")]:
        rating = {"helpful": helpful, "channel": channel}
        sent(client.post(f"/v1/kb/articles/{vpn}/feedback", json=rating, headers=reader))
    attempts: list[tuple[str, str | None, str]] = [
        ("portal", vpn, "solved"), ("portal", printer, "solved"), ("portal", None, "ticket_opened"),
        ("chat", None, "ticket_opened"),
    ]  # fmt: skip
    for channel, article_id, outcome in attempts:
        body = {"channel": channel, "article_id": article_id, "outcome": outcome}
        sent(client.post("/v1/kb/deflections", json=body, headers=reader))
    return vpn, printer


def test_reads_helpfulness_and_the_deflection_rate_per_channel_and_day_reach_the_report(
    gateway: httpx.Client,
) -> None:
    vpn, printer = read_and_rated(gateway)
    report = eventually(lambda: knowledge(gateway), lambda r: r["views"] == 4 and len(r["deflection"]) == 2, 60)
    today = datetime.now(UTC).date().isoformat()
    first, second = report["articles"]
    assert first == {"article_id": vpn, "title": "Reset the VPN client", "language": "en", "status": "published",
                     "views": 3, "helpful": 2, "unhelpful": 1, "helpful_percent": 66.67}  # fmt: skip
    assert (second["article_id"], second["views"], second["helpful_percent"]) == (printer, 1, None)
    assert report["deflection"] == [
        {"day": today, "channel": "chat", "solved": 0, "ticket_opened": 1, "deflection_rate_percent": 0.0},
        {"day": today, "channel": "portal", "solved": 2, "ticket_opened": 1, "deflection_rate_percent": 66.67},
    ]
    assert (report["solved"], report["ticket_opened"], report["deflection_rate_percent"]) == (2, 2, 50.0)
    chat = knowledge(gateway, channel="chat")
    assert chat["deflection_rate_percent"] == 0.0
    assert [(a["article_id"], a["views"], a["unhelpful"]) for a in chat["articles"]] == [(printer, 1, 0), (vpn, 0, 1)]


def test_an_unknown_channel_is_refused_naming_it(gateway: httpx.Client) -> None:
    reply = gateway.get("/v1/reports/knowledge", params={"channel": "pigeon"}, headers=headers(TENANT))
    assert reply.status_code == 422
    assert "channel" in reply.text


def test_the_knowledge_tables_rebuilt_from_the_topic_equal_the_live_ones(desk: Desk, gateway: httpx.Client) -> None:
    read_and_rated(gateway)
    eventually(lambda: knowledge(gateway), lambda r: r["views"] == 4 and r["ticket_opened"] == 2, 60)
    projection = AnalyticsProjection(tracking_recorder(desk.settings, "analytics"))
    live = projection.rows()
    assert [len(live[t]) for t in ("kb_articles", "kb_reads", "kb_self_service")] == [2, 7, 4]
    analytics = next(s for s in desk.services if s.name == "analytics")
    analytics.stop()
    rebuild = subprocess.run(
        [sys.executable, "-m", "services.analytics.main", "rebuild", "--kafka"],
        cwd=ROOT, env=desk.env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert rebuild.returncode == 0, rebuild.stderr
    assert projection.rows() == live
