"""Open-loop load: tickets posted at a constant rate, each timed from its scheduled instant
(a stall in the service shows as latency, it does not slow the arrivals down)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import aiohttp

from tests.client import headers, ticket_form


async def post_tickets(
    base_url: str, tenant: str, rate: int, seconds: int, created: Callable[[str, float], None]
) -> int:
    """POST `rate * seconds` tickets; `created(ticket_id, scheduled_at)` for each 201. How many failed."""
    errors = 0
    form = ticket_form()

    async def one(session: aiohttp.ClientSession, at: float) -> None:
        nonlocal errors
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        request_headers = headers(tenant) | {"Idempotency-Key": str(uuid.uuid4())}
        try:
            async with session.post("/v1/tickets", json=form, headers=request_headers) as reply:
                body = await reply.json()
                status = reply.status
        except aiohttp.ClientError:
            errors += 1
            return
        if status != 201:
            errors += 1
            return
        created(body["id"], at)

    async with aiohttp.ClientSession(base_url=base_url, connector=aiohttp.TCPConnector(limit=128)) as session:
        start = time.perf_counter() + 0.2
        await asyncio.gather(*(one(session, start + i / rate) for i in range(rate * seconds)))
    return errors
