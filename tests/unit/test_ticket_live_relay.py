"""The ticket page's live relay says the API's events in the page's words, and the gateway passes a
page's event stream on as it comes; the SLA events are named for what changed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.chassis.http.gateway import mount_pages
from services.intake.tickets.live import _sla_change
from services.web.live import _relayed
from services.web.sessions import Session

BORIS = Session("s", "acme", "agent-boris", "Boris Belov", ["agent"], ["first-line"], "token", datetime.now(UTC))
VIEWERS = (
    '{"type": "viewers", "viewers": [{"subject": "agent-ann", "name": "Ann Archer", "activity": "replying"},'
    ' {"subject": "agent-boris", "name": "Boris Belov", "activity": "viewing"}]}'
)


async def lines(*said: str) -> AsyncIterator[str]:
    for line in said:
        yield line


def relayed(*said: str) -> list[str]:
    async def read() -> list[str]:
        return [part async for part in _relayed(lines(*said), BORIS)]

    return asyncio.run(read())


def test_a_ticket_event_becomes_changed_with_its_id_and_a_comment_passes_as_it_is() -> None:
    said = relayed("retry: 1000", "", "id: 7", "event: ticket.comment_added", 'data: {"body": "x"}', "", ": still here")
    assert said == ["id: 7\nevent: changed\ndata: ticket.comment_added\n\n", ": still here\n\n"]


def test_viewers_are_the_others_as_html() -> None:
    [said] = relayed("event: viewers", f"data: {VIEWERS}", "")
    assert said.startswith("event: viewers\ndata: ")
    assert "Ann Archer is replying" in said
    assert "Boris" not in said, "who else, never oneself"


def test_nobody_viewing_still_reaches_the_page() -> None:
    [said] = relayed("event: viewers", 'data: {"viewers": []}', "")
    assert said == "event: viewers\ndata: <!-- nobody -->\n\n"


def test_an_sla_event_is_named_for_what_changed() -> None:
    running = {"first_response": {"breached": False, "warned_at_percent": None}}
    warned = {"first_response": {"breached": False, "warned_at_percent": 75}}
    breached = {"first_response": {"breached": True, "warned_at_percent": 75}}
    assert _sla_change(None, running) == "sla.changed"
    assert _sla_change(running, warned) == "sla.warning"
    assert _sla_change(warned, breached) == "sla.breached"
    assert _sla_change(breached, breached) == "sla.changed"


def test_the_gateway_passes_a_pages_event_stream_on_as_it_comes() -> None:
    def web(request: httpx.Request) -> httpx.Response:
        body = httpx.ByteStream(b"event: changed\ndata: x\n\n")
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)

    app = FastAPI()
    plain = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    mount_pages(app, "http://web", plain, httpx.AsyncClient(transport=httpx.MockTransport(web)))
    with TestClient(app).stream("GET", "/tickets/1/live", headers={"Accept": "text/event-stream"}) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.read() == b"event: changed\ndata: x\n\n"
