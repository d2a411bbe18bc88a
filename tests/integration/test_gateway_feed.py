"""The gateway's event feed on real processes, Kafka and PostgreSQL: a subscriber reads every
public event of its tenant (tickets, routing decisions, SLA clocks) from one feed and one
stream, resumes from one cursor, and keeps reading tickets while a service is down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.client import eventually, headers, open_ticket, put_ok
from tests.harness import Desk, Service

TENANT = "acme"
SOURCES = {"ticket.opened": "intake", "routing.decided": "routing", "sla.started": "sla"}


@pytest.fixture
def desk_services(desk: Desk) -> Iterator[tuple[httpx.Client, Service]]:
    sla, intake = desk.service("sla"), desk.service("intake", "api")
    desk.start_together(desk.service("routing"), sla, desk.service("intake", "relay"), intake)
    with httpx.Client(base_url=intake.url, timeout=30.0, headers=headers(TENANT)) as client:
        put_ok(client, TENANT, "/v1/routing/groups/first-line", {"tier": 1, "default": True})
        policy = {"match": {"priorities": ["P2"]}, "targets": {"first_response": "PT1H", "resolution": "PT8H"}}
        put_ok(client, TENANT, "/v1/sla/policies/standard", policy)
        yield client, sla


def read_all(client: httpx.Client, after: str | None = None) -> tuple[list[dict[str, Any]], str, list[str]]:
    """Every page from `after` on: the events, the cursor after them, the sources that did not answer."""
    events: list[dict[str, Any]] = []
    unavailable: list[str] = []
    while True:
        page = client.get("/v1/events", params={"limit": 2} | ({"after": after} if after else {}))
        assert page.status_code == 200, page.text
        body = page.json()
        events += body["events"]
        unavailable += body["unavailable"]
        if body["next_after"] == after:
            return events, body["next_after"], unavailable
        after = body["next_after"]


def of_ticket(events: list[dict[str, Any]], ticket_id: str) -> set[str]:
    return {e["type"] for e in events if e["subject"] == ticket_id}


def test_a_subscriber_reads_tickets_routing_and_sla_events_from_one_feed_and_resumes_from_its_cursor(
    desk_services: tuple[httpx.Client, Service],
) -> None:
    client, _ = desk_services
    first = open_ticket(client, TENANT)
    open_ticket(client, "globex")
    events, cursor, _ = eventually(lambda: read_all(client), lambda r: set(SOURCES) <= of_ticket(r[0], first))

    assert {e["tenant"] for e in events} == {TENANT}, "only the caller's tenant"
    for source in SOURCES.values():
        positions = [e["position"] for e in events if e["source"] == source]
        assert positions == sorted(set(positions)), f"{source}: in store order, each once"

    second = open_ticket(client, TENANT)
    more, _, _ = eventually(lambda: read_all(client, cursor), lambda r: set(SOURCES) <= of_ticket(r[0], second))
    assert first not in {e["subject"] for e in more}, "the cursor resumes after what was read, in every source"
    assert not {e["id"] for e in more} & {e["id"] for e in events}


def test_the_stream_carries_every_source_and_resumes_after_the_last_event_id(
    desk_services: tuple[httpx.Client, Service],
) -> None:
    client, _ = desk_services
    ticket_id = open_ticket(client, TENANT)
    seen: list[tuple[str, dict[str, Any]]] = []
    with client.stream("GET", "/v1/events/stream") as stream:
        event_id = ""
        for line in stream.iter_lines():
            if line.startswith("id: "):
                event_id = line.removeprefix("id: ")
            elif line.startswith("data: "):
                seen.append((event_id, json.loads(line.removeprefix("data: "))))
                if set(SOURCES) <= of_ticket([e for _, e in seen], ticket_id):
                    break
    assert {e["source"] for _, e in seen} == set(SOURCES.values())

    # Across sources there is no global order: the resumed stream may interleave the rest by time
    # differently from the live one, which saw each source's events as they were committed.
    resume = {"Last-Event-ID": seen[0][0]}
    rest = {e["id"] for _, e in seen[1:]}
    resumed: set[str] = set()
    with client.stream("GET", "/v1/events/stream", headers=resume) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                resumed.add(json.loads(line.removeprefix("data: "))["id"])
                if rest <= resumed:
                    break
    assert seen[0][1]["id"] not in resumed, "resumes after the last event id"


def test_tickets_keep_coming_while_sla_is_down_and_sla_resumes_where_it_was(
    desk_services: tuple[httpx.Client, Service],
) -> None:
    client, sla = desk_services
    first = open_ticket(client, TENANT)
    _, cursor, _ = eventually(lambda: read_all(client), lambda r: set(SOURCES) <= of_ticket(r[0], first))
    sla.stop()
    second = open_ticket(client, TENANT)
    events, _, unavailable = eventually(
        lambda: read_all(client, cursor), lambda r: "routing.decided" in of_ticket(r[0], second)
    )
    assert "sla" in unavailable, "the feed says which source it could not read"
    assert "sla.started" not in of_ticket(events, second)
    sla.start()
    later, _, _ = eventually(lambda: read_all(client, cursor), lambda r: "sla.started" in of_ticket(r[0], second))
    assert not [e for e in later if e["source"] == "sla" and e["subject"] == first], "sla resumes where it was"
