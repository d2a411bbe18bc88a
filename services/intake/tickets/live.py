"""One ticket as it happens, for whoever may see it: its new events, its SLA state and who else has it open.

Everything comes from intake's own store, which holds the ticket's whole story: routing's decisions
are recorded on it as `assigned`, sla's clock events are kept per ticket (sla_status.py) and the
viewers are a table of it (viewers.py). So a stream reads one ticket's rows, by key, on any replica,
and resumes from the ticket's version after a reconnect (or a killed replica), never scanning the
tenant's feed for one ticket.

What a reader gets is what the ticket read and history give them: a customer neither an internal
note nor a file attached to one (access.readable), and no viewers; each read checks again that the
reader may still see the ticket (a ticket reassigned away from an agent's groups ends their stream).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from services.chassis.http.auth import Principal
from services.chassis.http.feed import ServerSent, StreamEnded
from services.intake.tickets.access import Scope, readable, visible_ticket
from services.intake.tickets.application import Intake
from services.intake.tickets.live_changes import POLL_SECONDS, LiveChanges
from services.intake.tickets.representations import HistoryEntry
from services.intake.tickets.sla_status import SlaStatus
from services.intake.tickets.viewers import Viewer, Viewers
from services.intake.tickets.work import TicketNotFoundError

WAIT_SECONDS = 1.0  # one read waits this long for something to say


class ViewerView(BaseModel):
    subject: str
    name: str
    activity: str = Field(description="`viewing`, or `replying` (writing in the reply box).")


class LiveEvent(BaseModel):
    """One thing that happened to the ticket, as its live stream says it."""

    type: str = Field(
        description="`ticket.<event>` (as the history names it: `ticket.comment_added`, `ticket.assigned`, ...),"
        " `sla.warning`, `sla.breached`, `sla.changed`, or `viewers`."
    )
    ticket_id: UUID
    change: HistoryEntry | None = Field(None, description="A ticket event: as the history shows it.")
    sla: dict[str, Any] | None = Field(None, description="An `sla.*` event: the ticket's SLA state, as GET shows it.")
    viewers: list[ViewerView] | None = Field(
        None, description="`viewers`: the staff who have the ticket open now (the caller too)."
    )


@dataclass(frozen=True)
class Seen:
    """What the stream has said: the ticket up to `version`, this SLA state and these viewers (None: not yet),
    as they were at the ticket's `generation` of changes (live_changes.py; None: not read yet)."""

    version: int
    sla: dict[str, Any] | None = None
    viewers: tuple[Viewer, ...] | None = None
    generation: int | None = None


class TicketLive:
    def __init__(
        self, intake: Intake, sla: SlaStatus | None, viewers: Viewers, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self.intake = intake
        self.sla = sla
        self.viewers = viewers
        self.changes = LiveChanges(intake.recorder, sla, viewers, poll_seconds)

    async def read(self, ticket_id: UUID, who: Principal, seen: Seen) -> tuple[Sequence[tuple[ServerSent, Any]], Seen]:
        """What is new since `seen`, waiting up to a second for something; each ticket event with its
        version (the SSE id to resume after). StreamEnded once `who` may no longer see the ticket.

        The ticket is read when the stream starts and then only when the process's one poller says it
        changed (live_changes.py): a quiet ticket costs its streams nothing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        if seen.generation is None:
            return await self._read(ticket_id, who, seen, self.changes.generation(who.tenant, ticket_id))
        while (left := deadline - loop.time()) > 0:
            generation = await self.changes.wait(who.tenant, ticket_id, seen.generation, left)
            if generation == seen.generation:
                break
            found, seen = await self._read(ticket_id, who, seen, generation)
            if found:
                return found, seen
        return [], seen

    async def _read(
        self, ticket_id: UUID, who: Principal, seen: Seen, generation: int
    ) -> tuple[list[tuple[ServerSent, Any]], Seen]:
        try:
            found, seen = await asyncio.to_thread(self._now, ticket_id, who, seen)
        except TicketNotFoundError:
            raise StreamEnded from None
        return found, replace(seen, generation=generation)

    def _now(self, ticket_id: UUID, who: Principal, seen: Seen) -> tuple[list[tuple[ServerSent, Any]], Seen]:
        ticket = visible_ticket(self.intake, ticket_id, who)
        found: list[tuple[ServerSent, Any]] = []
        if ticket.version > seen.version:
            entries = readable(self.intake.story_after(ticket, seen.version), who, ticket)
            found += [(LiveEvent(type=f"ticket.{e.event}", ticket_id=ticket_id, change=e), e.version) for e in entries]
            seen = replace(seen, version=ticket.version)
        targets = self.sla.of(who.tenant, ticket_id) if self.sla is not None else {}
        if targets != seen.sla:
            found.append((LiveEvent(type=_sla_change(seen.sla, targets), ticket_id=ticket_id, sla=targets), None))
            seen = replace(seen, sla=targets)
        if Scope.of(who).staff:
            viewers = tuple(self.viewers.of(who.tenant, ticket_id))
            if viewers != seen.viewers:
                views = [ViewerView(subject=v.subject, name=v.name, activity=v.activity) for v in viewers]
                found.append((LiveEvent(type="viewers", ticket_id=ticket_id, viewers=views), None))
                seen = replace(seen, viewers=viewers)
        return found, seen


def _sla_change(before: dict[str, Any] | None, now: dict[str, Any]) -> str:
    """`sla.breached` when a target was newly breached, `sla.warning` when newly warned, else `sla.changed`."""
    was = before or {}
    if any(t["breached"] and not was.get(m, {}).get("breached") for m, t in now.items()):
        return "sla.breached"
    warned = [
        m
        for m, t in now.items()
        if t["warned_at_percent"] is not None and t["warned_at_percent"] != was.get(m, {}).get("warned_at_percent")
    ]
    return "sla.warning" if warned else "sla.changed"
