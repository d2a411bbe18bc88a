"""Many live SLA clocks at once, for the timer test and benchmark.

Tickets are opened by writing `ticket.opened` envelopes straight onto the tickets
topic (as intake's relay would), with opening instants spread over a window, so the
clocks' warnings and breaches fall due spread over it too. Outcomes are read back
from the SLA store: each firing's recorded time against its due instant.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.envelope import Envelope
from services.sla.application import Sla

FIRINGS = {"Warned", "Breached"}


def policy(first_response: timedelta, resolution: timedelta) -> dict[str, Any]:
    return {"match": {}, "targets": {"first_response": first_response.total_seconds(),
                                     "resolution": resolution.total_seconds()}, "warn_at": [50, 90]}  # fmt: skip


async def open_tickets(
    bootstrap: str,
    topic: str,
    tenant: str,
    count: int,
    start: datetime,
    spread: float,
    rate: float | None = None,
    first_position: int = 1,
) -> None:
    """`count` ticket.opened envelopes, opened at instants spread uniformly over `spread` seconds from `start`;
    with `rate`, instead one every 1/`rate` s from `start` (a future instant), each sent when its instant comes,
    as a steady flow of tickets opening would arrive (`spread` is then unused). Their store positions count from
    `first_position` (a consumer takes a position it has seen for a message delivered again)."""
    rng = random.Random(7)
    loop = asyncio.get_running_loop()
    began = loop.time() + (start - datetime.now(UTC)).total_seconds()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20)
    await producer.start()
    try:
        sends = []
        for position in range(1, count + 1):
            ticket_id = str(uuid.uuid4())
            offset = rng.uniform(0, spread) if rate is None else (position - 1) / rate
            if rate is not None and (wait := began + offset - loop.time()) > 0:
                await asyncio.sleep(wait)
            envelope = Envelope(
                id=uuid.uuid4(), type="ticket.opened", version=2, source="intake", subject=ticket_id, tenant=tenant,
                actor="load", occurred_at=start + timedelta(seconds=offset), sequence=1,
                position=first_position + position - 1, correlation_id="load", causation_id="load",
                data={"ticket_id": ticket_id, "number": f"SD-{position}", "requester_id": "customer", "channel": "api",
                      "category": "general", "type": "request", "priority": "P3", "tags": [], "keywords": []},
            )  # fmt: skip
            key, value, headers = envelope.to_kafka()
            sends.append(await producer.send(topic, value=value, key=key, headers=headers))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


@dataclass
class Outcomes:
    clocks: int
    lateness: dict[str, list[float]]  # kind -> seconds late, per firing
    duplicates: int  # firings recorded more than once for the same (clock, metric, kind, threshold)
    # seconds late, per firing whose clock was started before it fell due: the scheduler's own lateness,
    # apart from that of a clock started late (its ticket still queued for the consumer)
    started_in_time: list[float] = field(default_factory=list)

    @property
    def firings(self) -> int:
        return sum(len(v) for v in self.lateness.values())


def _count(sla: Sla, *event_names: str) -> int:
    """How many events of `event_names` (of the Clock) the store holds, in one query."""
    recorder: Any = sla.recorder
    marker = "%s" if "Postgres" in type(recorder).__name__ else "?"
    topics = [f"services.sla.clock:Clock.{name}" for name in event_names]
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT COUNT(*) AS n FROM {recorder.events_table_name}"
            f" WHERE topic IN ({', '.join([marker] * len(topics))})",
            tuple(topics),
        )
        return int(cursor.fetchone()["n"])


def clocks_started(sla: Sla) -> int:
    return _count(sla, "Started")


def firings_recorded(sla: Sla) -> int:
    return _count(sla, *FIRINGS)


def outcomes(sla: Sla, due_by: datetime | None = None) -> Outcomes:
    """Every firing the SLA store holds, with its lateness (recorded minus due); with `due_by`, only those
    due by that instant."""
    seen: Counter[tuple[Any, ...]] = Counter()
    lateness: dict[str, list[float]] = {"warning": [], "breach": []}
    started: dict[Any, datetime] = {}  # clock -> when it was first started (recorded)
    in_time: list[float] = []
    clocks = 0
    position = 1
    while notifications := sla.recorder.select_notifications(position, 5000):
        for notification in notifications:
            event: Any = sla.mapper.to_domain_event(notification)
            name = type(event).__name__
            if type(event).__qualname__ == "Clock.Started":
                clocks += 1
                started.setdefault(event.originator_id, event.timestamp)
            if name in FIRINGS and (due_by is None or event.at <= due_by):
                seen[(event.originator_id, event.metric, name, getattr(event, "threshold", None))] += 1
                kind = "warning" if name == "Warned" else "breach"
                lateness[kind].append(late := (event.timestamp - event.at).total_seconds())
                if (began := started.get(event.originator_id)) is not None and began <= event.at:
                    in_time.append(late)
        position = notifications[-1].id + 1
    return Outcomes(clocks, lateness, sum(n - 1 for n in seen.values()), in_time)
