"""A month of a desk's tickets as intake publishes them: each opened, then resolved some hours later,
with instants spread over the past 30 days. What routing's what-if is tested and measured on."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.envelope import Envelope

CATEGORIES = ("billing", "general", "network")
PRIORITIES = ("P2", "P3", "P3", "P4")


@dataclass(frozen=True)
class MonthTicket:
    ticket_id: str
    number: str
    category: str
    opened_at: datetime
    resolved_at: datetime


def month_of_tickets(
    count: int, days: int = 30, seed: int = 23, now: datetime | None = None, held: float = 6.0
) -> list[MonthTicket]:
    """`count` tickets opened evenly over the past `days` (the last hour left out), each resolved after
    half to `held` times the time between two openings: in time order of their opening."""
    pick = random.Random(seed)
    end = (now or datetime.now(UTC)) - timedelta(hours=1)
    start = end - timedelta(days=days) + timedelta(hours=2)
    step = (end - start) / max(count, 1)
    tickets = []
    for n in range(count):
        opened = start + step * n
        tickets.append(
            MonthTicket(
                ticket_id=str(uuid.UUID(int=pick.getrandbits(128), version=4)),
                number=f"SD-{n + 1:06d}",
                category=pick.choice(CATEGORIES),
                opened_at=opened,
                resolved_at=opened + step * pick.uniform(0.5, held),
            )
        )
    return tickets


def envelope(tenant: str, ticket_id: str, type: str, version: int, at: datetime, data: dict[str, Any],
             sequence: int, position: int) -> Envelope:  # fmt: skip
    return Envelope(
        id=uuid.uuid4(), type=type, version=version, source="intake", subject=ticket_id, tenant=tenant,
        actor="customer-1", occurred_at=at, sequence=sequence, position=position, correlation_id=ticket_id,
        causation_id=ticket_id, data=data,
    )  # fmt: skip


def opened(tenant: str, ticket: MonthTicket, position: int) -> Envelope:
    data = {"ticket_id": ticket.ticket_id, "number": ticket.number, "requester_id": "c1", "channel": "email",
            "category": ticket.category, "type": "request", "priority": PRIORITIES[position % len(PRIORITIES)],
            "tags": [], "keyword_digests": []}  # fmt: skip
    return envelope(tenant, ticket.ticket_id, "ticket.opened", 3, ticket.opened_at, data, 1, position)


def resolved(tenant: str, ticket: MonthTicket, position: int) -> Envelope:
    data = {"ticket_id": ticket.ticket_id, "status": "resolved", "change": "resolved"}
    return envelope(tenant, ticket.ticket_id, "ticket.status_changed", 1, ticket.resolved_at, data, 2, position)


def month_events(tenant: str, tickets: list[MonthTicket]) -> Iterator[Envelope]:
    """Every ticket's opening and resolution, in the order of their instants."""
    moments = sorted(
        [(t.opened_at, 0, t) for t in tickets] + [(t.resolved_at, 1, t) for t in tickets],
        key=lambda m: (m[0], m[1], m[2].ticket_id),
    )
    for position, (_, kind, ticket) in enumerate(moments, start=1):
        yield (resolved if kind else opened)(tenant, ticket, position)
