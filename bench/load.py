"""Open-loop load: tickets posted at a constant rate, each timed from its scheduled instant
(a stall in the service shows as latency, it does not slow the arrivals down).

The client is lean on purpose, as it shares the 2 cores with what it measures: a few keep-alive
HTTP/1.1 connections, one request prepared once (only its Idempotency-Key changes), one signed token
for the whole run, and the answer parsed as far as its status and ticket id. An idle connection
the server closed is opened again and the request sent again, which its Idempotency-Key makes safe.

`python -m bench.load URL RATE SECONDS` runs it as a process of its own (`LoadProcess`), so the
load generator's CPU per ticket stands apart from the bench's Kafka reader's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

CONNECTIONS = 64
AUTHORIZATION = "BENCH_AUTHORIZATION"  # the environment variable a load process takes its header from


class Refused(Exception):
    """The server's answer is not one this client reads (chunked, or not HTTP)."""


@dataclass
class Request:
    """POST /v1/tickets, prepared once: the bytes before and after the Idempotency-Key."""

    host: str
    port: int
    head: bytes
    tail: bytes

    @classmethod
    def ticket(cls, base_url: str, authorization: str, form: dict[str, Any]) -> Request:
        url = urlsplit(base_url)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        body = json.dumps(form).encode()
        head = (
            f"POST /v1/tickets HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {authorization}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nIdempotency-Key: "
        ).encode()
        return cls(host, port, head, b"\r\n\r\n" + body)

    def with_key(self) -> bytes:
        return self.head + str(uuid.uuid4()).encode() + self.tail


@dataclass
class Connection:
    request: Request
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(self.request.host, self.request.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self) -> tuple[int, bytes]:
        """Status and body of one POST; on a connection the server closed meanwhile, once more on a new one."""
        payload = self.request.with_key()
        for attempt in (1, 2):
            if self.writer is None:
                await self.open()
            try:
                return await self._exchange(payload)
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, payload: bytes) -> tuple[int, bytes]:
        assert self.reader is not None
        assert self.writer is not None
        self.writer.write(payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lower = head.lower()
        if not head.startswith(b"HTTP/1.1 ") or b"transfer-encoding: chunked" in lower:
            raise Refused(head[:80].decode(errors="replace"))
        start = lower.find(b"content-length:")
        length = int(lower[start + 15 : lower.index(b"\r\n", start)]) if start >= 0 else 0
        body = await self.reader.readexactly(length)
        if b"connection: close" in lower:
            self.close()
        return int(head[9:12]), body


@dataclass
class Offered:
    """What an open-loop run did: failures by status or exception, and the CPU it cost this process."""

    errors: Counter[str] = field(default_factory=Counter)
    cpu_seconds: float = 0.0
    seconds: float = 0.0


async def connected(request: Request, connections: int = CONNECTIONS) -> list[Connection]:
    pool = [Connection(request) for _ in range(connections)]
    await asyncio.gather(*(connection.open() for connection in pool))
    return pool


async def offer(pool: list[Connection], rate: int, seconds: float, created: Callable[[str, float], None]) -> Offered:
    """POST `rate * seconds` tickets at `rate` per second over `pool`; `created(ticket_id, scheduled_at)` for
    each 201 (`scheduled_at` on the `time.perf_counter` clock, CLOCK_MONOTONIC, the same in every process)."""
    due: asyncio.Queue[float | None] = asyncio.Queue()
    offered = Offered()

    async def worker(connection: Connection) -> None:
        while (at := await due.get()) is not None:
            try:
                status, body = await connection.post()
            except (OSError, asyncio.IncompleteReadError, Refused) as error:
                offered.errors[type(error).__name__] += 1
                connection.close()
                continue
            if status != 201:
                offered.errors[str(status)] += 1
                continue
            created(json.loads(body)["id"], at)

    cpu, began = time.process_time(), time.perf_counter()
    workers = [asyncio.create_task(worker(connection)) for connection in pool]
    start = time.perf_counter() + 0.01
    for i in range(int(rate * seconds)):
        at = start + i / rate
        if (wait := at - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        due.put_nowait(at)
    for _ in pool:
        due.put_nowait(None)
    await asyncio.gather(*workers)
    offered.cpu_seconds, offered.seconds = time.process_time() - cpu, time.perf_counter() - began
    for connection in pool:
        connection.close()
    return offered


async def post_tickets(
    base_url: str, tenant: str, rate: int, seconds: int, created: Callable[[str, float], None]
) -> int:
    """POST `rate * seconds` tickets from this process; `created(ticket_id, scheduled_at)` for each 201.
    How many failed."""
    from tests.client import headers, ticket_form

    request = Request.ticket(base_url, headers(tenant)["Authorization"], ticket_form())
    return sum((await offer(await connected(request), rate, seconds, created)).errors.values())


@dataclass
class LoadProcess:
    """`python -m bench.load` as a child process: started and connected first, then told to go, so
    that neither its start nor its imports fall inside the window measured."""

    process: asyncio.subprocess.Process

    @classmethod
    async def start(
        cls, base_url: str, authorization: str, rate: int, seconds: float, connections: int = CONNECTIONS
    ) -> LoadProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.load", base_url, str(rate), str(seconds), "--connections", str(connections),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 26,
            env=os.environ | {AUTHORIZATION: authorization},
        )  # fmt: skip
        assert process.stdout is not None
        if (await process.stdout.readline()).strip() != b"ready":
            raise RuntimeError(f"the load process did not start (exit {await process.wait()})")
        return cls(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")

    async def result(self) -> dict[str, Any]:
        """{"created": [[ticket_id, scheduled_at], ...], "errors": {...}, "cpu_seconds": ..., "seconds": ...}"""
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        await self.process.wait()
        if not line:
            raise RuntimeError(f"the load process ended without a result (exit {self.process.returncode})")
        result: dict[str, Any] = json.loads(line)
        return result


async def _serve(base_url: str, rate: int, seconds: float, connections: int) -> None:
    from tests.client import ticket_form

    pool = await connected(Request.ticket(base_url, os.environ[AUTHORIZATION], ticket_form()), connections)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    created: list[tuple[str, float]] = []
    offered = await offer(pool, rate, seconds, lambda ticket_id, at: created.append((ticket_id, at)))
    result = {"created": created, "errors": dict(offered.errors), "cpu_seconds": offered.cpu_seconds,
              "seconds": offered.seconds}  # fmt: skip
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("rate", type=int)
    parser.add_argument("seconds", type=float)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    args = parser.parse_args()
    import uvloop

    uvloop.run(_serve(args.url, args.rate, args.seconds, args.connections))


if __name__ == "__main__":
    main()
