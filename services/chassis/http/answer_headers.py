"""Headers added to every answer of an app, as plain ASGI middleware.

Starlette's `@app.middleware("http")` (BaseHTTPMiddleware) runs each request's app in a task
group of its own and passes the request body and the answer through memory streams: at the
gateway's rate that costs more CPU than the ticket's command. These wrap `send` instead, adding
their headers to the answer's start message, with the same result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What one request took here: (method, route template, status, seconds).
Observe = Callable[[str, str, int, float], None]


class ServerTiming:
    """`Server-Timing: app;dur=<ms>` on every HTTP answer (a browser's developer tools and
    bench/workspace_pages.py read it), and the same duration to `observe`, labelled by the matched
    route's template, never the raw path (bounded labels)."""

    def __init__(self, app: ASGIApp, observe: Observe) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = time.perf_counter() - started
                MutableHeaders(scope=message)["Server-Timing"] = f"app;dur={elapsed * 1000:.1f}"
                template = getattr(scope.get("route"), "path", "unmatched")
                self.observe(scope["method"], template, message["status"], elapsed)
            await send(message)

        await self.app(scope, receive, timed)


class RequestHeaders:
    """The headers `of(request)` names for a request, on its answer (set, replacing any the app set)."""

    def __init__(self, app: ASGIApp, of: Callable[[Request], Mapping[str, str]]) -> None:
        self.app = app
        self.of = of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.of(Request(scope)).items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
