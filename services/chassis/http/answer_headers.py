"""What every HTTP answer of an app carries beyond what its route made, as one plain ASGI middleware.

Starlette's `@app.middleware("http")` (BaseHTTPMiddleware) runs each request's app in a task
group of its own and passes the request body and the answer through memory streams: at the
gateway's rate that costs more CPU than the ticket's command. This wraps `send` once instead,
adding every header to the answer's start message, with the same result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What one request took here: (method, route template, status, seconds).
Observe = Callable[[str, str, int, float], None]
# The key, in a request's state (`request.state.answer_headers`), of the headers its answer must carry
# whatever it is (the gateway's rate-limit headers: services/chassis/http/identity.py).
ANSWER_HEADERS = "answer_headers"


class AnswerHeaders:
    """On every HTTP answer: `Server-Timing: app;dur=<ms>` (a browser's developer tools and
    bench/workspace_pages.py read it), and the headers the request's handling left in its state
    under `ANSWER_HEADERS` (set, replacing any the app set). The same duration goes to `observe`,
    labelled by the matched route's template, never the raw path (bounded labels)."""

    def __init__(self, app: ASGIApp, observe: Observe) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})  # what `request.state` writes to, shared inwards

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = time.perf_counter() - started
                headers = MutableHeaders(scope=message)
                headers["Server-Timing"] = f"app;dur={elapsed * 1000:.1f}"
                for name, value in state.get(ANSWER_HEADERS, {}).items():
                    headers[name] = value
                template = getattr(scope.get("route"), "path", "unmatched")
                self.observe(scope["method"], template, message["status"], elapsed)
            await send(message)

        await self.app(scope, receive, answer)
