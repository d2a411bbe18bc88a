"""The steady load of bench/faults.py: commands at a constant, open-loop rate through the gateway, as a
desk's day sends them. Each ticket opened (for one of a few requesters who are mailed) is then, after
a second or a few, answered in public, taken into work and resolved, one step at a time; a command goes
to the ticket whose next step is due, else a new ticket opens. Tickets answered late let their SLA
warnings and breaches fall due meanwhile.

Nothing is retried: a command answered 2xx is acknowledged (its events must be in the store), any other
answer, or none, is counted as an error by its kind."""

from __future__ import annotations

import asyncio
import heapq
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.client import headers, ticket_form

STEPS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("comment", "comments", {"body": "Please restart the router and tell us if it drops again.", "public": True}),
    ("start-work", "start-work", {"reason": "mine"}),
    ("resolve", "resolve", {"resolution": "answered", "reason": "done"}),
)
STEP_DELAY = (1.0, 6.0)  # seconds between one step of a ticket and its next
IN_FLIGHT = 64  # commands at once at most; beyond, the load waits (and says so in `late`)


@dataclass
class Load:
    base_url: str
    tenant: str
    requesters: list[str]
    rate: float
    rng: random.Random
    opened: list[str] = field(default_factory=list)
    acknowledged: list[tuple[str, str]] = field(default_factory=list)  # (ticket id, command)
    errors: Counter[str] = field(default_factory=Counter)
    late: int = 0  # commands sent over a second after their instant (the machine, not the desk, was behind)
    answered_in: list[float] = field(default_factory=list)  # seconds each acknowledged command took to answer
    _due: list[tuple[float, str, int]] = field(default_factory=list)  # (instant, ticket id, step)

    @property
    def sent(self) -> int:
        return len(self.acknowledged) + sum(self.errors.values())

    async def run(self, stop: asyncio.Event) -> None:
        """Send commands at `rate` per second until `stop` is set, then wait for those in flight."""
        slots = asyncio.Semaphore(IN_FLIGHT)
        tasks: set[asyncio.Task[None]] = set()
        limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=16)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10.0, limits=limits,
                                     headers=headers(self.tenant)) as client:  # fmt: skip
            began = time.monotonic()
            n = 0
            while not stop.is_set():
                at = began + n / self.rate
                if (wait := at - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                elif wait < -1.0:
                    self.late += 1
                await slots.acquire()
                task = asyncio.create_task(self._command(client, slots))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                n += 1
            await asyncio.gather(*tasks)

    async def _command(self, client: httpx.AsyncClient, slots: asyncio.Semaphore) -> None:
        try:
            if self._due and self._due[0][0] <= time.monotonic():
                _, ticket_id, step = heapq.heappop(self._due)
                await self._step(client, ticket_id, step)
            else:
                await self._open(client)
        finally:
            slots.release()

    async def _open(self, client: httpx.AsyncClient) -> None:
        form = ticket_form(requester_id=self.rng.choice(self.requesters), priority="P3")
        answer = await self._send(client, "/v1/tickets", form, {"Idempotency-Key": str(uuid.uuid4())}, "open")
        if answer is not None:
            ticket_id: str = answer["id"]
            self.opened.append(ticket_id)
            self.acknowledged.append((ticket_id, "open"))
            self._schedule(ticket_id, 0)

    async def _step(self, client: httpx.AsyncClient, ticket_id: str, step: int) -> None:
        command, path, body = STEPS[step]
        if await self._send(client, f"/v1/tickets/{ticket_id}/{path}", body, {}, command) is not None:
            self.acknowledged.append((ticket_id, command))
        if step + 1 < len(STEPS):
            self._schedule(ticket_id, step + 1)

    def _schedule(self, ticket_id: str, step: int) -> None:
        heapq.heappush(self._due, (time.monotonic() + self.rng.uniform(*STEP_DELAY), ticket_id, step))

    async def _send(
        self, client: httpx.AsyncClient, path: str, body: dict[str, Any], extra: dict[str, str], command: str
    ) -> dict[str, Any] | None:
        began = time.monotonic()
        try:
            reply = await client.post(path, json=body, headers=extra)
        except httpx.HTTPError as error:
            self.errors[f"{command}: {type(error).__name__}"] += 1
            return None
        if not reply.is_success:
            self.errors[f"{command}: {reply.status_code}{refusal(reply)}"] += 1
            return None
        self.answered_in.append(time.monotonic() - began)
        answer: dict[str, Any] = reply.json()
        return answer


def refusal(reply: httpx.Response) -> str:
    """What a 4xx answer's problem says (its detail, cut short), so that a refusal can be told apart from the next
    one; nothing for a 5xx (the desk's 503s while its store is away say the same each time)."""
    if reply.status_code >= 500:
        return ""
    try:
        body = reply.json()
    except ValueError:
        body = reply.text
    detail = str(body.get("detail", "")) if isinstance(body, dict) else str(body)
    return f" ({detail[:120]})" if detail else ""
