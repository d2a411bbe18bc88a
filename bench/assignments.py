"""The bench's reader of the flow's topics: when each ticket's opening, routing's decision and the
assignment were recorded (the events' `ce_time`) and sent by their relays (the Kafka records' own
timestamps), and when the assignment reached this reader: each hop of the flow, timed.

It reads the CloudEvents headers only, and only of the tenant it follows: at 1,000 tickets a second
it must stay cheap beside what it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from aiokafka import AIOKafkaConsumer

from schemas.routing import ROUTING_ACTOR

OPENED, DECIDED, ASSIGNED = b"ticket.opened", b"routing.decided", b"ticket.assigned"
BY_ROUTING = ROUTING_ACTOR.encode()


@dataclass
class Trail:
    """One ticket's way through the flow as the reader saw it, in wall-clock seconds: each event's recorded
    instant (`ce_time`) and the instant its relay handed it to Kafka (the record's timestamp, to the ms)."""

    opened: float | None = None
    opened_sent: float | None = None
    decided: float | None = None
    decided_sent: float | None = None
    assigned: float | None = None
    assigned_sent: float | None = None


class Assignments:
    def __init__(self, bootstrap: str, tickets_topic: str, decisions_topic: str) -> None:
        self.consumer = AIOKafkaConsumer(tickets_topic, decisions_topic, bootstrap_servers=bootstrap,
                                         auto_offset_reset="latest", group_id=None)  # fmt: skip
        self.tenant = b""
        self.assigned: dict[str, float] = {}  # ticket id -> when its assignment reached the reader (perf_counter)
        self.trails: dict[str, Trail] = {}
        self._task: asyncio.Task[None] | None = None

    def follow(self, tenant: str) -> None:
        """Keep the events of `tenant` from now on, forgetting those of the one followed before."""
        self.tenant = tenant.encode()
        self.assigned, self.trails = {}, {}

    async def __aenter__(self) -> Assignments:
        await self.consumer.start()
        self._task = asyncio.create_task(self._read())
        await asyncio.sleep(1.0)  # the partitions assigned, the positions at their ends
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:  # fmt: skip
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()

    async def _read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    found = dict(record.headers)
                    if found.get("ce_tenant") != self.tenant:
                        continue
                    kind, subject = found.get("ce_type"), found.get("ce_subject", b"").decode()
                    recorded, sent = found.get("ce_time", b"").decode(), record.timestamp / 1000
                    if kind == OPENED:
                        trail = self.trails.setdefault(subject, Trail())
                        trail.opened, trail.opened_sent = _instant(recorded), sent
                    elif kind == DECIDED:
                        trail = self.trails.setdefault(subject, Trail())
                        trail.decided, trail.decided_sent = _instant(recorded), sent
                    elif kind == ASSIGNED and found.get("ce_actor") == BY_ROUTING and subject not in self.assigned:
                        self.assigned[subject] = now
                        trail = self.trails.setdefault(subject, Trail())
                        trail.assigned, trail.assigned_sent = _instant(recorded), sent


def _instant(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()
