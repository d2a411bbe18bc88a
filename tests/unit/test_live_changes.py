"""One poller per gateway process tells the ticket streams which of their tickets changed: a ticket event, an
SLA row or a viewer wakes the streams of that ticket only, and many open streams cost one check a turn."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast
from uuid import UUID, uuid4

from eventsourcing.persistence import ApplicationRecorder

from services.intake.tickets.live_changes import LiveChanges
from services.intake.tickets.sla_status import SlaStatus
from services.intake.tickets.viewers import Viewer, Viewers

TURN = 0.01


@dataclass
class Stored:
    id: int
    originator_id: UUID


class Store:
    """The store's notification log, as the poller reads it."""

    def __init__(self) -> None:
        self.notifications: list[Stored] = []
        self.reads = 0

    def append(self, ticket_id: UUID) -> None:
        self.notifications.append(Stored(len(self.notifications) + 1, ticket_id))

    def max_notification_id(self) -> int | None:
        return len(self.notifications) or None

    def select_notifications(self, start: int, limit: int, *, inclusive_of_start: bool = True) -> list[Stored]:
        self.reads += 1
        return [n for n in self.notifications if n.id > start][:limit]


class Present:
    """The viewers table, as the poller reads it: one query for every watched ticket."""

    def __init__(self) -> None:
        self.now: dict[str, list[Viewer]] = {}
        self.queries = 0

    def of_tickets(self, tenant: str, ticket_ids: list[UUID]) -> dict[str, list[Viewer]]:
        self.queries += 1
        return {str(t): self.now[str(t)] for t in ticket_ids if str(t) in self.now}


def changes(store: Store, present: Present) -> LiveChanges:
    return LiveChanges(cast(ApplicationRecorder, store), cast(SlaStatus | None, None), cast(Viewers, present), TURN)


async def settled(live: LiveChanges, tickets: list[UUID]) -> list[int]:
    """Each ticket's generation once the poller has seen it (it wakes each once when it first sees it)."""
    first = [live.generation("acme", t) for t in tickets]
    return [await live.wait("acme", t, g, 1.0) for t, g in zip(tickets, first, strict=True)]


def test_a_ticket_event_wakes_the_streams_of_that_ticket_only() -> None:
    async def scenario() -> tuple[int, int, int, int]:
        store, present = Store(), Present()
        live = changes(store, present)
        mail, printer = uuid4(), uuid4()
        seen_mail, seen_printer = await settled(live, [mail, printer])
        waiting = [asyncio.create_task(live.wait("acme", mail, seen_mail, 2.0)) for _ in range(3)]
        quiet = asyncio.create_task(live.wait("acme", printer, seen_printer, 0.2))
        await asyncio.sleep(3 * TURN)
        store.append(mail)
        woken = await asyncio.gather(*waiting)
        return seen_mail, min(woken), seen_printer, await quiet

    seen_mail, woken, seen_printer, still = asyncio.run(scenario())
    assert woken == seen_mail + 1  # every stream of the ticket, at once
    assert still == seen_printer  # the other ticket's streams slept on


def test_a_new_viewer_wakes_the_ticket_streams() -> None:
    async def scenario() -> tuple[int, int]:
        store, present = Store(), Present()
        live = changes(store, present)
        ticket = uuid4()
        [seen] = await settled(live, [ticket])
        present.now[str(ticket)] = [Viewer("agent-ann", "Ann Archer", "replying")]
        return seen, await live.wait("acme", ticket, seen, 2.0)

    seen, woken = asyncio.run(scenario())
    assert woken == seen + 1


def test_a_hundred_open_streams_cost_one_check_a_turn() -> None:
    async def scenario() -> tuple[int, int, int]:
        store, present = Store(), Present()
        live = changes(store, present)
        tickets = [uuid4() for _ in range(100)]
        seen = await settled(live, tickets)
        checks, reads, queries = live.checks, store.reads, present.queries
        waiting = [live.wait("acme", t, g, 20 * TURN) for t, g in zip(tickets, seen, strict=True)]
        await asyncio.gather(*waiting)
        return live.checks - checks, store.reads - reads, present.queries - queries

    checks, reads, queries = asyncio.run(scenario())
    assert 1 <= checks <= 25, checks  # about one a turn for twenty turns, however many streams wait
    # Each check: one read of the store and one query of the viewers (one more may be under way as it ends).
    assert checks <= reads <= checks + 1
    assert checks <= queries <= checks + 1
