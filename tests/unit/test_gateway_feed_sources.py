"""What the merged feed makes of a service behind the gateway that answers badly (the proof of
the feed on real services is tests/integration/test_gateway_feed.py): a body that is no page, a
refused internal token, or another tenant's events never fail the whole feed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx
import pytest

from services.chassis.http.feed import EventPage
from services.chassis.http.feed_sources import RemoteSource
from services.chassis.http.gateway_feed import MergedFeed
from tests.unit.test_gateway_feed_pages import WHO, StandIn, envelope

Answer = Callable[[httpx.Request], httpx.Response]


def read_with_routing_answering(answer: Answer) -> tuple[str, list[str], list[str]]:
    """One page of intake (one event) and routing answering `answer`: the cursor after it, the
    sources named unavailable, and `source.position` of each event."""

    async def read() -> tuple[str, list[str], list[str]]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            routing = RemoteSource("routing", "http://routing", client, mint=lambda principal: "internal-token")
            feed = MergedFeed([StandIn("intake", [envelope("intake", 3, 0)]), routing])
            page = await feed.read(feed.cursor(None), 10, WHO, set(), 0.0)
            return str(page.after), page.unavailable, [f"{e.source}.{e.position}" for e, _ in page.events]

    return asyncio.run(read())


def test_a_service_answering_200_with_no_event_page_is_unavailable_and_the_log_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    for body in (b"<html>proxy error</html>", b'{"events": "none"}'):

        def no_page(request: httpx.Request, body: bytes = body) -> httpx.Response:
            return httpx.Response(200, content=body)

        with caplog.at_level(logging.WARNING, "services.chassis.http.gateway_feed"):
            read = read_with_routing_answering(no_page)
        assert read == ("intake.3-routing.0", ["routing"], ["intake.3"])
        assert "routing answered 200 with no event page" in caplog.text


@pytest.mark.parametrize("status", [401, 403])
def test_a_service_refusing_the_internal_token_is_unavailable_and_the_log_names_the_status(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    refusal = {"title": "Unauthorized", "detail": "token expired (exp)"}
    with caplog.at_level(logging.WARNING, "services.chassis.http.gateway_feed"):
        read = read_with_routing_answering(lambda request: httpx.Response(status, json=refusal))
    assert read == ("intake.3-routing.0", ["routing"], ["intake.3"])
    assert f"routing refused the gateway's internal token ({status}" in caplog.text
    assert "token expired" in caplog.text


def test_another_tenants_events_on_a_services_page_are_dropped_and_passed_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    theirs = envelope("routing", 5, 1).model_copy(update={"tenant": "globex"})
    page = EventPage(events=[envelope("routing", 4, 1), theirs], next_after=5)
    with caplog.at_level(logging.ERROR, "services.chassis.http.gateway_feed"):
        read = read_with_routing_answering(lambda request: httpx.Response(200, content=page.model_dump_json()))
    assert read == ("intake.3-routing.5", [], ["intake.3", "routing.4"])
    assert "routing served 1 event(s) of another tenant than acme" in caplog.text
