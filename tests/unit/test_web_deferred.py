"""What the workspace leaves for after the page: a queue page answers without counting, and its counts come
in a request of their own, each swapped into its place; a live ticket change is one request for three blocks."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.unit.test_web_pages import TICKETS, ann, desk

VIEW = {"id": "0d5e8a0c-0000-4000-8000-000000000009", "name": "Urgent VPN", "owner": "agent-ann", "shared": False,
        "filters": {}, "columns": ["number", "title"], "order": "-created_at"}  # fmt: skip
TICKET = TICKETS[0] | {"description": "It drops.", "category": "network", "type": "incident", "requester_id": "kim",
                       "version": 3, "comments": [{"id": "c1", "body": "Still dropping", "public": True,
                                                   "author_id": "kim", "channel": "email"}]}  # fmt: skip


def gateway_answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/v1/tickets/counts":
        return httpx.Response(200, json={"queues": {"mine": 1, "unassigned": 4, "all": 7}, "views": {VIEW["id"]: 2}})
    if path == "/v1/views":
        return httpx.Response(200, json={"views": [VIEW]})
    if path.endswith("/history"):
        return httpx.Response(200, json={"events": [{"version": 3, "event": "comment_added", "actor": "kim",
                                                      "at": "2026-12-04T09:31:00+00:00", "reason": None}]})  # fmt: skip
    if path.endswith("/verify"):
        return httpx.Response(200, json={"intact": True, "checked": 3})
    if path.startswith("/v1/tickets/") and path.count("/") == 3:
        return httpx.Response(200, json=TICKET)
    if path == "/v1/tickets":
        return httpx.Response(200, json={"tickets": TICKETS, "next_cursor": None})
    return httpx.Response(404, json={"title": "Not found", "status": 404})


def test_a_queue_page_answers_without_counting_and_its_counts_come_after(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    client, sign_in = desk(tmp_path, asked, gateway_answer)
    sign_in.person = ann(sign_in.sessions)
    page = client.get("/queues/mine")
    assert page.status_code == 200
    assert "/v1/tickets/counts" not in [request.url.path for request in asked], "the page never waits to count"
    assert 'hx-get="/queues/counts"' in page.text
    assert re.search(r'<span id="count-unassigned" class="count"></span>', page.text), "its place, empty for now"
    assert f'<span id="count-view-{VIEW["id"]}" class="count"></span>' in page.text

    counts = client.get("/queues/counts", headers={"HX-Request": "true", "HX-Target": "counts"})
    assert counts.status_code == 200
    assert '<span id="count-unassigned" class="count" hx-swap-oob="true">4</span>' in counts.text
    assert f'<span id="count-view-{VIEW["id"]}" class="count" hx-swap-oob="true">2</span>' in counts.text
    assert "<html" not in counts.text


def test_a_live_change_is_one_request_for_three_blocks_and_an_sla_move_asks_for_the_facts_alone(tmp_path: Path) -> None:
    client, sign_in = desk(tmp_path, [], gateway_answer)
    sign_in.person = ann(sign_in.sessions)
    page = client.get(f"/tickets/{TICKET['id']}")
    assert page.status_code == 200
    assert page.text.count('hx-trigger="sse:changed') == 1, "one element asks, for all three blocks"
    assert page.text.count('hx-trigger="sse:sla') == 1, "an SLA move asks for the facts alone"
    assert 'hx-trigger="sse:sla' in page.text.split('<div id="facts"', 1)[1].split(">", 1)[0]
    assert "hx-swap-oob" not in page.text, "the page itself swaps nothing out of band"

    live = client.get(f"/tickets/{TICKET['id']}", headers={"HX-Request": "true", "HX-Target": "live"})
    assert live.status_code == 200
    assert "<html" not in live.text
    for block in ('<div id="facts" hx-swap-oob="innerHTML">', '<ol id="thread" hx-swap-oob="innerHTML">',
                  '<ol id="history" hx-swap-oob="innerHTML">'):  # fmt: skip
        assert block in live.text
    assert "Still dropping" in live.text
    assert "comment_added" in live.text
