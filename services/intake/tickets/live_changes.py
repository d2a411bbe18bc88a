"""Which of the tickets open in live streams changed: one check for the whole process, not one per stream.

Every open ticket page holds a stream (live.py), and each stream used to read its ticket, SLA state and
viewers four times a second, so a hundred open pages cost four hundred reads a second even when nothing
happened. Now one poller per gateway process asks, four times a second, what changed among the tickets
its streams watch, in three small queries whatever their number: the store's notifications since the
position it last read (a ticket event, written by any replica or consumer, names its ticket), and the
watched tickets' SLA rows and current viewers (neither of them events: sla_status.py, viewers.py),
compared with what it saw last. It wakes the streams of the tickets that changed; only those read.

A ticket's `generation` counts the changes the poller has seen of it: a stream notes it before reading
the ticket and waits for it to move, so a change found while it was reading is not lost. The poller
runs while some stream watches (it stops a few seconds after the last one goes) and starts with the next.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from services.intake.tickets.sla_status import SlaStatus
from services.intake.tickets.viewers import Viewers

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25  # a change shows within this (plus the way to the browser)
FORGET_SECONDS = 5.0  # a ticket no stream has waited on for this long is no longer watched
PAGE = 1000  # notifications read at once


@dataclass
class _Watched:
    tenant: str
    generation: int = 0
    waiters: int = 0
    wanted_at: float = 0.0
    seen: Any = None  # its SLA rows and viewers as last compared (None: not yet)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def bump(self) -> None:
        self.generation += 1
        self.changed.set()
        self.changed = asyncio.Event()


class LiveChanges:
    def __init__(
        self,
        recorder: ApplicationRecorder,
        sla: SlaStatus | None,
        viewers: Viewers,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.recorder = recorder
        self.sla = sla
        self.viewers = viewers
        self.poll_seconds = poll_seconds
        self._watched: dict[UUID, _Watched] = {}
        self._poller: asyncio.Task[None] | None = None
        self.checks = 0  # how many checks the poller made (tests: one per turn, whatever the streams)

    def generation(self, tenant: str, ticket_id: UUID) -> int:
        """The ticket's changes seen so far; from now on it is watched."""
        entry = self._entry(tenant, ticket_id)
        entry.wanted_at = asyncio.get_running_loop().time()
        return entry.generation

    async def wait(self, tenant: str, ticket_id: UUID, generation: int, seconds: float) -> int:
        """The ticket's generation once it is past `generation`, or `generation` after `seconds`."""
        entry = self._entry(tenant, ticket_id)
        if entry.generation != generation:
            return entry.generation
        entry.waiters += 1
        try:
            await asyncio.wait_for(entry.changed.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            entry.waiters -= 1
            entry.wanted_at = asyncio.get_running_loop().time()
        return entry.generation

    def _entry(self, tenant: str, ticket_id: UUID) -> _Watched:
        entry = self._watched.get(ticket_id)
        if entry is None:
            entry = self._watched[ticket_id] = _Watched(tenant)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll(), name="live-changes")
        return entry

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        position = await asyncio.to_thread(self.recorder.max_notification_id) or 0
        while self._watched:
            await asyncio.sleep(self.poll_seconds)
            now = loop.time()
            for ticket_id, entry in list(self._watched.items()):
                if not entry.waiters and now - entry.wanted_at > FORGET_SECONDS:
                    del self._watched[ticket_id]
            watched = {ticket_id: entry.tenant for ticket_id, entry in self._watched.items()}
            try:
                position, touched, states = await asyncio.to_thread(self._check, position, watched)
            except Exception:  # a failed check (the database away a moment) is tried again
                log.warning("live changes: the check failed; trying again", exc_info=True)
                continue
            self.checks += 1
            for ticket_id, state in states.items():
                still = self._watched.get(ticket_id)
                if still is None:
                    continue
                if ticket_id in touched or state != still.seen:
                    still.bump()  # also when first seen: whatever changed before, the stream reads it again
                still.seen = state

    def _check(self, position: int, watched: dict[UUID, str]) -> tuple[int, set[UUID], dict[UUID, Any]]:
        """The position read up to, the watched tickets that have new events, each watched ticket's SLA
        rows and viewers now."""
        touched: set[UUID] = set()
        while True:
            found = self.recorder.select_notifications(position, PAGE, inclusive_of_start=False)
            touched |= {UUID(str(n.originator_id)) for n in found if n.originator_id in watched}
            if found:
                position = found[-1].id
            if len(found) < PAGE:
                break
        states: dict[UUID, Any] = {}
        for tenant, ids in _by_tenant(watched).items():
            clocks = self.sla.of_tickets(tenant, ids) if self.sla is not None else {}
            present = self.viewers.of_tickets(tenant, ids)
            for ticket_id in ids:
                states[ticket_id] = (clocks.get(str(ticket_id)), present.get(str(ticket_id)))
        return position, touched, states


def _by_tenant(watched: dict[UUID, str]) -> dict[str, list[UUID]]:
    tenants: dict[str, list[UUID]] = {}
    for ticket_id, tenant in watched.items():
        tenants.setdefault(tenant, []).append(ticket_id)
    return tenants
