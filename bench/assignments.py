"""The bench's reader of intake's tickets topic: when each ticket's opening and routing's assignment
were recorded (the events' `ce_time`), and when the assignment reached this reader.

It reads the CloudEvents headers only, and only of the tenant it follows: at 1,000 tickets a second
it must stay cheap beside what it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import TracebackType

from aiokafka import AIOKafkaConsumer

from schemas.routing import ROUTING_ACTOR

OPENED, ASSIGNED, BY_ROUTING = b"ticket.opened", b"ticket.assigned", ROUTING_ACTOR.encode()


class Assignments:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="latest", group_id=None)
        self.tenant = b""
        self.opened: dict[str, str] = {}  # ticket id -> recorded instant (ISO 8601)
        self.assigned: dict[str, tuple[str, float]] = {}  # ticket id -> (recorded instant, perf_counter on arrival)
        self._task: asyncio.Task[None] | None = None

    def follow(self, tenant: str) -> None:
        """Keep the events of `tenant` from now on, forgetting those of the one followed before."""
        self.tenant = tenant.encode()
        self.opened, self.assigned = {}, {}

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
                    if kind == OPENED:
                        self.opened[subject] = found["ce_time"].decode()
                    elif kind == ASSIGNED and found.get("ce_actor") == BY_ROUTING and subject not in self.assigned:
                        self.assigned[subject] = (found["ce_time"].decode(), now)
