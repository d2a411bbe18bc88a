"""The gateway forwards each browser's cookies and keeps none: one person's session never reaches another."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.chassis.http.gateway import forwarding_client, mount_pages


def test_a_browser_without_a_cookie_never_gets_the_session_another_browser_was_given() -> None:
    seen: list[httpx.Request] = []

    def web(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/auth/callback":
            return httpx.Response(303, headers={"location": "/", "set-cookie": "servicedesk_session=ann; Path=/"})
        return httpx.Response(200, html="<h1>Sign in</h1>")

    app = FastAPI()
    mount_pages(app, "http://web", forwarding_client(timeout=5.0, transport=httpx.MockTransport(web)))
    ann = TestClient(app, follow_redirects=False)
    assert ann.get("/auth/callback").headers["set-cookie"].startswith("servicedesk_session=ann")
    with TestClient(app, follow_redirects=False) as kim:
        kim.get("/queues/mine")
    assert "cookie" not in seen[-1].headers
