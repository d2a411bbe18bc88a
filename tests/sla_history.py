"""A month of a tenant's tickets as intake would have published them, for SLA's what-if test and benchmark.

Each ticket opens at an instant spread over the month; the desk answers it after a delay drawn from a spread
that lands some answers in time and some late; some customers write again and are answered, some tickets
are raised to P1, some wait on their customer, half are resolved, and a few are never answered at all."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.envelope import Envelope

BERLIN_HOURS = {"time_zone": "Europe/Berlin", "weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed",
                                                                                          "thu", "fri")}}  # fmt: skip
URGENT = {"match": {"priorities": ["P1"]}, "targets": {"first_response": "PT30M", "resolution": "PT4H"},
          "warn_at": [50, 90]}  # fmt: skip


def standard(first_response: str = "PT4H") -> dict[str, Any]:
    """The tenant's standard policy (business hours in Berlin), with its first response target."""
    targets = {"first_response": first_response, "next_response": "PT8H", "resolution": "PT16H"}
    return {"calendar": "berlin", "targets": targets, "warn_at": [75]}


@dataclass
class Answered:
    number: str
    priority: str  # when it opened (and when first answered: a raise to P1 comes after the first answer)
    opened: datetime
    answered: datetime | None


@dataclass
class Month:
    tenant: str
    envelopes: list[Envelope] = field(default_factory=list)
    tickets: list[Answered] = field(default_factory=list)

    @classmethod
    def of(cls, tenant: str, tickets: int, start: datetime, days: float, seed: int = 3) -> Month:
        month = cls(tenant)
        rng = random.Random(seed)
        for n in range(tickets):
            month._ticket(rng, n, start + timedelta(seconds=rng.uniform(0, days * 86400)))
        return month

    def _ticket(self, rng: random.Random, n: int, opened: datetime) -> None:
        ticket, number, sequence = str(uuid.uuid4()), f"SD-2026-{n + 1:06d}", iter(range(1, 100))
        priority = "P1" if n % 6 == 0 else rng.choice(["P2", "P3", "P4"])

        def event(kind: str, at: datetime, version: int = 1, **data: Any) -> None:
            self.envelopes.append(Envelope(
                id=uuid.uuid4(), type=kind, version=version, source="intake", subject=ticket, tenant=self.tenant,
                actor="agent-7", occurred_at=at, sequence=next(sequence), position=len(self.envelopes) + 1,
                correlation_id=ticket, causation_id=ticket, data={"ticket_id": ticket} | data,
            ))  # fmt: skip

        def comment(at: datetime, author: str, kind: str) -> None:
            event("ticket.commented", at, version=2, comment_id=str(uuid.uuid4()), public=True, author_id=author,
                  channel="email", author_kind=kind)  # fmt: skip

        event("ticket.opened", opened, version=2, number=number, requester_id="customer-1", channel="email",
              category="network", type="incident", priority=priority)  # fmt: skip
        if n % 10 == 9:  # never answered: the scheduler records its breaches
            self.tickets.append(Answered(number, priority, opened, None))
            return
        answered = opened + timedelta(minutes=rng.choice([10, 25, 50, 90, 150, 210, 360, 2880]))
        comment(answered, "agent-7", "staff")
        self.tickets.append(Answered(number, priority, opened, answered))
        last = answered
        if n % 5 == 1:  # waits on the customer two days (their answer, or the end of it, resumes the clock)
            event("ticket.status_changed", last := last + timedelta(minutes=20), status="pending",
                  change="marked_pending", waiting_for="customer",
                  pending_until=(last + timedelta(days=2)).isoformat())  # fmt: skip
        if n % 3 == 0:
            comment(last := last + timedelta(minutes=rng.choice([30, 300])), "customer-1", "requester")
            comment(last := last + timedelta(minutes=rng.choice([20, 600, 1500])), "agent-7", "staff")
        if n % 7 == 0 and priority != "P1":
            event("ticket.priority_changed", last := last + timedelta(minutes=15), priority="P1", previous=priority)
        if n % 2 == 0:
            event("ticket.status_changed", last + timedelta(minutes=rng.choice([60, 900, 4000])), status="resolved",
                  change="resolved")  # fmt: skip


async def publish(bootstrap: str, topic: str, envelopes: list[Envelope]) -> None:
    """Onto the tickets topic as intake's relay would (keyed by ticket: one partition each, in order)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20)
    await producer.start()
    try:
        sends = []
        for envelope in envelopes:
            key, value, headers = envelope.to_kafka()
            sends.append(await producer.send(topic, value=value, key=key, headers=headers))
        for sent in sends:
            await sent
    finally:
        await producer.stop()
