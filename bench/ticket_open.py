"""The gateway's own CPU for one ticket: POST /v1/tickets handled in process, on SQLite.

The request goes through the whole app as uvicorn would hand it over (middleware, authentication of
a bearer token, the rate limit, validation, the idempotency key, sealing, numbering, the save, the
answer), called directly as ASGI: no network, no server, no client library. The figure is the
process's CPU time per ticket (and the wall time, one request at a time), so a regression in the
Python of the hot path shows here before it drowns in the noise of the production-shape benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bench.results import record
from services.chassis.http.identity import authenticate
from services.chassis.http.rate_limit import RateLimiter
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.runtime.settings import Settings
from services.intake.attachments.blobs import FileBlobStore
from services.intake.http.app import create_app
from tests.client import ticket_form
from tests.privacy import desk_intake
from tests.tokens import auth_env, token

WARM_UP = 200
TICKETS = 2000


def gateway(folder: Path) -> FastAPI:
    trust = {name.removeprefix("SERVICEDESK_").lower(): value for name, value in auth_env(folder / "auth").items()}
    settings = Settings.model_validate({"data_dir": str(folder / "data")} | trust)
    app = Runtime("intake", Metrics("intake")).app()
    authenticate(app, settings, limiter=RateLimiter(per_minute=10_000_000))
    return create_app(app, desk_intake(settings), FileBlobStore(folder / "blobs"), max_upload=1024)


async def post(app: FastAPI, body: bytes, bearer: str) -> int:
    """One POST /v1/tickets with its own Idempotency-Key, as uvicorn would call the app; the status."""
    headers = [
        (b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"authorization", f"Bearer {bearer}".encode()), (b"idempotency-key", str(uuid.uuid4()).encode()),
    ]  # fmt: skip
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/v1/tickets", "raw_path": b"/v1/tickets", "query_string": b"", "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {},
    }  # fmt: skip
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # no disconnect while the app works
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure(app: FastAPI) -> dict[str, Any]:
    body = json.dumps(ticket_form()).encode()
    bearer = token("bench")  # a client sends one token with every request until it expires
    for _ in range(WARM_UP):
        assert await post(app, body, bearer) == 201
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(TICKETS):
        assert await post(app, body, bearer) == 201
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "tickets": TICKETS,
        "cpu_us_per_ticket": round(cpu / TICKETS * 1e6, 1),
        "wall_us_per_ticket": round(wall / TICKETS * 1e6, 1),
    }


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(measure(gateway(Path(tmp))))
    record("ticket_open", {"store": "sqlite", "in_process": True} | figures)


if __name__ == "__main__":
    run()
