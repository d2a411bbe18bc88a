"""The gateway's own CPU for one ticket: POST /v1/tickets handled in process, on SQLite (`--store
postgres`: on a fresh database of the shared PostgreSQL, with the limiter production uses there).

The request goes through the whole app as uvicorn would hand it over (middleware, authentication of
a bearer token, the rate limit, validation, the idempotency key, sealing, numbering, the save, the
answer), called directly as ASGI: no network, no server, no client library. The figure is the
process's CPU time per ticket (and the wall time, one request at a time), so a regression in the
Python of the hot path shows here before it drowns in the noise of the production-shape benchmarks.
On PostgreSQL it also counts the round trips to the server one ticket costs (libpq's Sync and simple
Query messages, whatever the connection): each is a system call or two on both sides and a wait.
`--app gateway`: the intake api process's own app instead (services/intake/main.py, role api, built as
it would serve it, with the rate limit raised out of the way): every router and proxy it mounts, in
its order, so what matching a route among them costs counts too (its workers are not started).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from fastapi import FastAPI

from bench.results import record
from services.chassis.http.identity import authenticate
from services.chassis.http.rate_limit import Limiter, RateLimiter, SharedRateLimiter
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.intake.attachments.blobs import FileBlobStore
from services.intake.http.app import create_app
from tests.client import ticket_form
from tests.infra import postgres
from tests.privacy import desk_intake
from tests.tokens import auth_env, token

WARM_UP = 200
TICKETS = 2000


UNLIMITED = 10_000_000  # requests a minute: the limiter counts every request, and refuses none


def gateway(folder: Path, store: dict[str, Any] | None = None) -> FastAPI:
    """The gateway's app on SQLite in `folder`, or on the store `store` names (settings)."""
    trust = {name.removeprefix("SERVICEDESK_").lower(): value for name, value in auth_env(folder / "auth").items()}
    settings = Settings.model_validate({"data_dir": str(folder / "data")} | (store or {}) | trust)
    app = Runtime("intake", Metrics("intake")).app()
    limiter: Limiter = RateLimiter(per_minute=UNLIMITED)
    if settings.persistence == "postgres":
        limiter = SharedRateLimiter(tracking_recorder(settings, "intake"), per_minute=UNLIMITED)
    authenticate(app, settings, limiter=limiter)
    return create_app(app, desk_intake(settings), FileBlobStore(folder / "blobs"), max_upload=1024)


def production_app(folder: Path, store: dict[str, Any] | None = None) -> FastAPI:
    """The intake api process's app (main.py, role api) on SQLite in `folder`, or on the store `store` names."""
    env = auth_env(folder / "auth") | {
        "SERVICEDESK_DATA_DIR": str(folder / "data"),
        "SERVICEDESK_ALLOW_DEVELOPMENT_SECRETS": "true",
        "SERVICEDESK_RATE_LIMIT_PER_MINUTE": str(UNLIMITED),
    }
    env |= {f"SERVICEDESK_{name.upper()}": str(value) for name, value in (store or {}).items()}
    apps: list[FastAPI] = []

    def serve(self: Runtime, app: FastAPI, host: str, port: int) -> int:
        apps.append(app)
        return 0

    from services.intake.main import main

    saved, argv, serving = dict(os.environ), sys.argv, Runtime.serve
    os.environ.update(env)
    sys.argv, Runtime.serve = ["intake", "api"], serve  # type: ignore[method-assign]
    try:
        main()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        sys.argv, Runtime.serve = argv, serving  # type: ignore[method-assign]
    return apps[0]


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


async def measure(app: FastAPI, tickets: int = TICKETS, concurrency: int = 1) -> dict[str, Any]:
    """CPU and wall time a ticket, `concurrency` requests under way at every moment (as many clients)."""
    body = json.dumps(ticket_form()).encode()
    bearer = token("bench")  # a client sends one token with every request until it expires

    async def client(count: int) -> None:
        for _ in range(count):
            assert await post(app, body, bearer) == 201

    async def clients(count: int) -> None:
        await asyncio.gather(*(client(count // concurrency) for _ in range(concurrency)))

    await clients(WARM_UP)
    cpu, wall = time.process_time(), time.perf_counter()
    await clients(tickets)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = tickets // concurrency * concurrency
    return {
        "tickets": done,
        "concurrency": concurrency,
        "cpu_us_per_ticket": round(cpu / done * 1e6, 1),
        "wall_us_per_ticket": round(wall / done * 1e6, 1),
    }


@contextmanager
def traced(trace: Path) -> Iterator[None]:
    """Every connection opened in the block writes libpq's trace of its messages to `trace`."""
    connect = psycopg.Connection.connect

    def connect_traced(*args: Any, **kwargs: Any) -> Any:
        conn = connect(*args, **kwargs)
        conn.pgconn.trace(out.fileno())
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        return conn

    with trace.open("w") as out:
        psycopg.Connection.connect = connect_traced  # type: ignore[method-assign]
        try:
            yield
        finally:
            psycopg.Connection.connect = connect  # type: ignore[method-assign]


def sent(trace: Path) -> int:
    """Round trips in `trace` so far: the Sync (extended protocol, pipelined or not) and Query messages sent."""
    return sum(1 for line in trace.read_text().splitlines() if line.startswith("F\t") and
               line.split("\t")[2].split(" ")[0] in ("Sync", "Query"))  # fmt: skip


async def count_round_trips(app: FastAPI, trace: Path, tickets: int = 200) -> float:
    body = json.dumps(ticket_form()).encode()
    bearer = token("bench")
    for _ in range(WARM_UP):
        assert await post(app, body, bearer) == 201
    before = sent(trace)
    for _ in range(tickets):
        assert await post(app, body, bearer) == 201
    return round((sent(trace) - before) / tickets, 2)


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ticket_open", description=__doc__)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=TICKETS)
    parser.add_argument("--app", choices=("intake", "gateway"), default="intake")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="requests under way at every moment (default 1: one at a time)"
    )
    return parser.parse_args(argv)


def run(argv: Sequence[str] | None = ()) -> None:
    args = arguments(argv)
    build = production_app if args.app == "gateway" else gateway
    shape = {"in_process": True} | ({"app": "gateway"} if args.app == "gateway" else {})
    if args.store == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            figures = asyncio.run(measure(build(Path(tmp)), args.tickets, args.concurrency))
        record("ticket_open", {"store": "sqlite"} | shape | figures)
        return
    server = postgres()  # two fresh databases, dropped only once both gateways are done with them
    with tempfile.TemporaryDirectory() as tmp, server.fresh_settings() as first, server.fresh_settings() as second:
        figures = asyncio.run(measure(build(Path(tmp) / "cpu", _store(first)), args.tickets, args.concurrency))
        with traced(Path(tmp) / "trace"):
            trips = asyncio.run(count_round_trips(build(Path(tmp) / "trips", _store(second)), Path(tmp) / "trace"))
    record("ticket_open", {"store": "postgres"} | shape | figures | {"round_trips_per_ticket": trips})


def _store(settings: Settings) -> dict[str, Any]:
    fields = ("persistence", "postgres_host", "postgres_port", "postgres_user", "postgres_password", "postgres_dbname")
    return settings.model_dump(include=set(fields))


if __name__ == "__main__":
    run(None)
