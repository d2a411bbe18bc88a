"""The one gateway address: requests under a service's prefix are forwarded to it.

In Kubernetes the Ingress routes the same prefixes directly; this thin proxy gives
the embedded and docker-compose shapes the same single address.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
from collections.abc import AsyncIterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.background import BackgroundTask

from services.chassis.http import openapi
from services.chassis.http.draining import until_draining
from services.chassis.http.identity import CurrentIdentity, peer_headers
from services.chassis.http.problems import problem
from services.chassis.http.rate_limit import Limiter
from services.chassis.http.tls import trusted_roots
from services.chassis.runtime import tracing

log = logging.getLogger(__name__)

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "host",
    "content-length",
}
_CREDENTIALS = {"authorization", "x-api-key"}
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_PAGES_DOWN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Service desk</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>
<h1>Service desk</h1><p role="alert">The workspace does not answer right now: nothing you sent was lost.
Go back and send it again in a moment. / Рабочее место сейчас не отвечает: ничего из отправленного не потеряно.
Вернитесь и отправьте ещё раз через минуту.</p></main></body></html>"""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def relay_client(**options: Any) -> httpx.AsyncClient:
    """The gateway's client of the services behind it. It keeps no cookie: a page's Set-Cookie belongs to
    the browser it answers, and a jar here would send it with the next browser's request (signed in as
    whoever signed in last)."""
    return httpx.AsyncClient(
        cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
        verify=trusted_roots(),
        **({"timeout": 30.0} | options),
    )


def mount_proxy(app: FastAPI, prefix: str, upstream: str, client: httpx.AsyncClient, root: bool = False) -> None:
    """Forward `prefix/...` to the same path on `upstream`; with `root`, the prefix itself too (an API whose
    collection is the prefix, as `/v1/triggers`)."""

    async def forward(request: Request, path: str, who: CurrentIdentity) -> Response:
        headers = internal_headers(request, who)
        if _CONTROL.search(path) or {".", ".."} & set(path.split("/")):  # nor may it climb out of the prefix
            return problem(400, "Bad request", "a path value holds control characters or dot segments", field="path")
        # The path as the caller encoded it: a decoded `#`, `?` or `%2F` would change what it names.
        url = f"{upstream}{request.scope.get('raw_path', b'').decode('latin-1') or f'{prefix}/{path}'}"
        return await _relay(request, url, headers, client, upstream, prefix)

    app.add_api_route(f"{prefix}/{{path:path}}", forward, methods=_METHODS, include_in_schema=False)
    if root:

        async def forward_root(request: Request, who: CurrentIdentity) -> Response:
            return await forward(request, "", who)

        app.add_api_route(prefix, forward_root, methods=_METHODS, include_in_schema=False)


def internal_headers(request: Request, who: CurrentIdentity) -> dict[str, str]:
    """The request's headers as the service behind gets them. The caller's credentials stop here: the service
    gets the gateway's short internal token for the same principal (an API key never travels further)."""
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP | _CREDENTIALS}
    return headers | peer_headers(request, who)


async def forward_to(
    request: Request, who: CurrentIdentity, url: str, client: httpx.AsyncClient, upstream: str, prefix: str
) -> Response:
    """Send the request on to `url` (a service behind the gateway) as `who`, and its answer back as it came."""
    return await _relay(request, url, internal_headers(request, who), client, upstream, prefix)


def mount_public_proxy(app: FastAPI, prefix: str, upstream: str, client: httpx.AsyncClient, limiter: Limiter) -> None:
    """Forward `prefix/...` to `upstream` with no credentials at all (what is there is for anyone:
    the public knowledge base), each address held to `limiter`'s rate. Mount it before a proxy of a
    shorter prefix that would answer the same paths."""

    async def forward(request: Request, path: str) -> Response:
        caller = f"public:{request.client.host if request.client else 'unknown'}"
        allowance = await limiter.spend(caller)  # RateLimited: a 429 with its headers
        request.state.answer_headers = allowance.headers()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP | _CREDENTIALS}
        if _CONTROL.search(path) or {".", ".."} & set(path.split("/")):
            return problem(400, "Bad request", "a path value holds control characters or dot segments", field="path")
        url = f"{upstream}{request.scope.get('raw_path', b'').decode('latin-1') or f'{prefix}/{path}'}"
        return await _relay(request, url, headers, client, upstream, prefix)

    app.add_api_route(f"{prefix}/{{path:path}}", forward, methods=_METHODS, include_in_schema=False)


def mount_pages(
    app: FastAPI, upstream: str, client: httpx.AsyncClient, streams: httpx.AsyncClient | None = None
) -> None:
    """Forward every path the gateway does not answer itself, outside the API, to the web service
    (`upstream`): the browser's pages share the API's address. Mount it last. Pages sign people in
    with their own cookie, so nothing is authenticated here; a path under `/v1/` that no route
    answers stays the API's 404. A browser's event stream (`Accept: text/event-stream`, an open
    ticket page's) goes through `streams`, so the lines that stay open never take up `client`'s
    connections, which every page load needs."""

    async def forward(request: Request, path: str) -> Response:
        if path == "v1" or path.startswith("v1/"):
            return problem(404, "Not found", f"no operation at /{path}")
        if _CONTROL.search(path) or {".", ".."} & set(path.split("/")):
            return problem(400, "Bad request", "a path value holds control characters or dot segments", field="path")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP | _CREDENTIALS}
        headers |= {"x-forwarded-host": request.headers.get("host", ""), "x-forwarded-proto": request.url.scheme}
        # The browser's address as this gateway saw it, never one the browser claims: the pages pass it
        # on to the public knowledge base, whose rate limit is per reader, not per web service.
        headers["x-forwarded-for"] = request.client.host if request.client else ""
        url = f"{upstream}{request.scope.get('raw_path', b'').decode('latin-1') or f'/{path}'}"
        live = streams is not None and "text/event-stream" in request.headers.get("accept", "")
        answer = await _relay(request, url, headers, streams if live and streams else client, upstream, "/")
        if answer.status_code == 503 and answer.headers.get("content-type") == "application/problem+json":
            # A browser reads a page, and never keeps it: stored, it would stand in for the page at the same
            # address (a ticket's, which asks for itself again on a live event), and going back to send again
            # would show this instead of the form.
            return HTMLResponse(_PAGES_DOWN, status_code=503, headers={"Retry-After": "5", "Cache-Control": "no-store"})
        return answer

    app.add_api_route("/{path:path}", forward, methods=_METHODS, include_in_schema=False)


async def _relay(
    request: Request, url: str, headers: dict[str, str], client: httpx.AsyncClient, upstream: str, prefix: str
) -> Response:
    """Send the request on to `url` and its answer back as it came (a redirect is not followed)."""
    attributes = {"http.request.method": request.method, "url.full": url}
    with tracing.tracer.start_as_current_span(f"{request.method} {prefix}", kind=SpanKind.CLIENT,
                                              attributes=attributes) as span:  # fmt: skip
        try:
            sent = client.build_request(
                request.method, url, params=request.url.query,
                headers=tracing.inject(headers), content=await request.body(),
            )  # fmt: skip
            reply = await client.send(sent, stream=True)
        except httpx.InvalidURL as error:  # e.g. control characters in a path value: the caller's fault
            span.set_status(Status(StatusCode.ERROR, repr(error)))
            return problem(400, "Bad request", f"the path cannot be forwarded: {error}", field="path")
        except httpx.TransportError as error:
            span.set_status(Status(StatusCode.ERROR, repr(error)))
            return problem(503, "Service unavailable", f"{upstream} does not answer: {error!r}", upstream=upstream)
        span.set_attribute("http.response.status_code", reply.status_code)
    kept = [(k, v) for k, v in reply.headers.multi_items() if k.lower() not in _HOP_BY_HOP | {"content-encoding"}]
    answer: Response
    if reply.headers.get("content-type", "").startswith("text/event-stream"):
        # A live tail (Server-Sent Events) is passed on as it comes, never read to its end first.
        answer = StreamingResponse(
            until_draining(_until_upstream_ends(reply.aiter_raw(), upstream)),
            status_code=reply.status_code,
            background=BackgroundTask(reply.aclose),
        )
    else:
        try:
            answer = Response(await reply.aread(), status_code=reply.status_code)
        except httpx.TransportError as error:
            return problem(503, "Service unavailable", f"{upstream} does not answer: {error!r}", upstream=upstream)
        finally:
            await reply.aclose()
    for name, value in kept:  # every Set-Cookie of the answer, not only the last
        answer.headers.append(name, value)
    return answer


async def _until_upstream_ends(chunks: AsyncIterator[bytes], upstream: str) -> AsyncIterator[bytes]:
    """A live tail's chunks until its upstream goes away (stopped, killed): the stream then ends, as the
    browser's EventSource expects (it connects again), with a line in the log, not an ASGI traceback."""
    try:
        async for chunk in chunks:
            yield chunk
    except httpx.TransportError as error:
        log.info("%s ended a live stream: %r", upstream, error)


class MergedOpenAPI:
    """One OpenAPI document at the gateway: its own routes plus each upstream's under its prefix.

    Upstream documents are fetched in the background (a service may start later or
    be redeployed); the gateway's `/openapi.json` and `/docs` show what is known. Every
    operation the gateway authenticates may also answer 429 (its rate limit), every forwarded one
    503 (the service behind does not answer), and every forwarded one with a path value 400 (a value
    that cannot be forwarded): services/chassis/http/openapi.py.
    """

    def __init__(self, app: FastAPI, upstreams: dict[str, str], client: httpx.AsyncClient) -> None:
        self.app = app
        self.upstreams = upstreams
        self.client = client
        self.fetched: dict[str, dict[str, Any]] = {}
        self._own: dict[str, Any] | None = None
        app.openapi = self.document  # type: ignore[method-assign]

    async def refresh(self) -> None:
        for prefix, upstream in self.upstreams.items():
            try:
                reply = await self.client.get(f"{upstream}/openapi.json", timeout=2.0)
                reply.raise_for_status()
            except httpx.HTTPError:
                continue
            self.fetched[prefix] = reply.json()

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            await self.refresh()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=30.0)

    def document(self) -> dict[str, Any]:
        if self._own is None:
            self._own = openapi.documented(self.app)
        merged = copy.deepcopy(self._own)
        for prefix, upstream in self.fetched.items():
            for path, item in upstream.get("paths", {}).items():
                if path.startswith(prefix):
                    merged.setdefault("paths", {})[path] = item
                    if "{" in path:  # a path value the gateway cannot forward (control characters) is a 400
                        for operation in openapi.operations({"paths": {path: item}}):
                            operation.setdefault("responses", {}).setdefault("400", {})
            for kind in ("schemas", "securitySchemes"):
                known = merged.setdefault("components", {}).setdefault(kind, {})
                known.update({k: v for k, v in upstream.get("components", {}).get(kind, {}).items() if k not in known})
        return openapi.problem_answers(merged, lambda operation: {429} if operation.get("security") else set())


PUBLIC_PREFIX = "/v1/kb/public"  # anonymous: the public knowledge base (services/knowledge/public_api.py)
