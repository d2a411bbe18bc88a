"""The browser's pages share the API's address: the gateway forwards what is not the API to the web service."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.chassis.http.gateway import mount_pages, relay_client
from services.chassis.http.problems import install_problem_handlers


def gateway(seen: list[httpx.Request]) -> TestClient:
    def web(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/signin":
            headers = [("location", "https://id.example/authorize"), ("set-cookie", "a=1"), ("set-cookie", "b=2")]
            return httpx.Response(303, headers=headers)
        return httpx.Response(200, html="<h1>My tickets</h1>")

    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/v1/tickets")
    async def tickets() -> dict[str, list[str]]:
        return {"tickets": []}

    mount_pages(app, "http://web", relay_client(transport=httpx.MockTransport(web)))
    return TestClient(app, follow_redirects=False)


def test_a_page_is_answered_by_the_web_service_with_the_browsers_cookie() -> None:
    seen: list[httpx.Request] = []
    page = gateway(seen).get("/queues/mine", headers={"Cookie": "servicedesk_session=signed"})
    assert page.status_code == 200
    assert "My tickets" in page.text
    assert seen[0].url.path == "/queues/mine"
    assert "servicedesk_session=signed" in seen[0].headers["cookie"]


def test_the_sign_in_redirect_and_every_cookie_reach_the_browser_as_sent() -> None:
    answer = gateway([]).get("/signin")
    assert answer.status_code == 303
    assert answer.headers["location"] == "https://id.example/authorize"
    assert answer.headers.get_list("set-cookie") == ["a=1", "b=2"]


def test_the_api_stays_the_api_and_an_unknown_operation_is_its_404() -> None:
    seen: list[httpx.Request] = []
    client = gateway(seen)
    assert client.get("/v1/tickets").json() == {"tickets": []}
    missing = client.get("/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert seen == []


def test_a_caller_credentials_are_not_forwarded_to_the_pages() -> None:
    seen: list[httpx.Request] = []
    gateway(seen).get("/queues/mine", headers={"Authorization": "Bearer secret", "X-API-Key": "key"})
    assert "authorization" not in seen[0].headers
    assert "x-api-key" not in seen[0].headers


def test_a_browser_is_told_on_a_page_when_the_workspace_does_not_answer() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    app = FastAPI()
    install_problem_handlers(app)
    mount_pages(app, "http://web", httpx.AsyncClient(transport=httpx.MockTransport(down)))
    answer = TestClient(app).get("/queues/mine")
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("text/html")
    assert "does not answer right now" in answer.text
    assert answer.headers["cache-control"] == "no-store"  # never kept as the page to go back to


def test_a_browser_without_a_cookie_is_never_sent_with_another_browsers() -> None:
    seen: list[httpx.Request] = []
    client = gateway(seen)
    client.get("/signin")  # the web service sets this browser's cookies
    client.cookies.clear()  # another browser, with none
    client.get("/queues/mine")
    assert "cookie" not in seen[1].headers


def test_the_pages_learn_the_readers_address_from_the_gateway_never_from_the_reader() -> None:
    """The public knowledge base limits each anonymous reader by address; a browser that claims
    another address in X-Forwarded-For must not get a fresh allowance by it."""
    seen: list[httpx.Request] = []
    gateway(seen).get("/t/acme", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen[0].headers["x-forwarded-for"] == "testclient"


def test_a_field_given_twice_reaches_the_page_twice_in_its_order() -> None:
    seen: list[httpx.Request] = []
    gateway(seen).get("/reports/time?group_by=agent&group_by=activity&agent=")
    assert seen[0].url.params.multi_items() == [("group_by", "agent"), ("group_by", "activity"), ("agent", "")]


def test_a_live_stream_ends_quietly_when_the_web_service_goes_away_under_it() -> None:
    class Dying(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"event: changed\ndata: {}\n\n"
            raise httpx.ReadError("the web service went away")

    def web(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Dying())

    app = FastAPI()
    install_problem_handlers(app)
    mount_pages(app, "http://web", relay_client(transport=httpx.MockTransport(web)))
    with TestClient(app).stream("GET", "/t/acme/tickets/1/live", headers={"Accept": "text/event-stream"}) as live:
        assert live.status_code == 200
        assert live.read() == b"event: changed\ndata: {}\n\n"  # then the end, as a browser's reconnect wants
