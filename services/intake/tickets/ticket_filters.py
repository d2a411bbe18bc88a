"""What narrows the ticket list and how it is ordered: one filter for the list, the counts and the
saved views alike, so a queue's count is the number of rows its list pages through.

Each field is optional; several values of one field are alternatives (status open *or* pending),
different fields must all hold. `sla_running` keeps only tickets with an SLA clock running (its due
instant is the nearest of the running metrics'); ordering by `sla_due_at` implies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Order(StrEnum):
    """A column and its direction (`-`: descending); every order ends on the ticket id, for the cursor."""

    NEWEST = "-created_at"
    OLDEST = "created_at"
    RECENTLY_UPDATED = "-updated_at"
    LEAST_RECENTLY_UPDATED = "updated_at"
    MOST_URGENT = "priority"
    LEAST_URGENT = "-priority"
    NEAREST_DUE = "sla_due_at"
    FURTHEST_DUE = "-sla_due_at"

    @property
    def column(self) -> str:
        return self.value.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")


@dataclass(frozen=True)
class TicketFilter:
    statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()
    agent_id: str | None = None
    unassigned: bool = False
    requester_id: str | None = None
    tag: str | None = None
    channel: str | None = None
    number: str | None = None
    words: str | None = None
    sla_running: bool = False
    created_from: datetime | None = None
    created_to: datetime | None = None

    def narrowed(self, other: TicketFilter) -> TicketFilter:
        """Both filters at once (a queue and the caller's own narrowing). Alternatives of one field intersect, so
        a status the queue excludes stays excluded; two different values of a single field match nothing."""

        def both(mine: tuple[str, ...], theirs: tuple[str, ...]) -> tuple[str, ...]:
            if mine and theirs:
                return tuple(value for value in theirs if value in mine) or ("",)  # "": matches nothing
            return mine or theirs

        singles = {"agent_id": (self.agent_id, other.agent_id), "requester_id": (self.requester_id, other.requester_id),
                   "tag": (self.tag, other.tag), "channel": (self.channel, other.channel),
                   "number": (self.number, other.number)}  # fmt: skip
        clash = any(mine is not None and theirs is not None and mine != theirs for mine, theirs in singles.values())
        return TicketFilter(
            statuses=("",) if clash else both(self.statuses, other.statuses),
            priorities=both(self.priorities, other.priorities),
            group_ids=both(self.group_ids, other.group_ids),
            agent_id=other.agent_id or self.agent_id,
            unassigned=self.unassigned or other.unassigned,
            requester_id=other.requester_id or self.requester_id,
            tag=other.tag or self.tag,
            channel=other.channel or self.channel,
            number=other.number or self.number,
            words=" ".join(w for w in (self.words, other.words) if w) or None,
            sla_running=self.sla_running or other.sla_running,
            created_from=other.created_from or self.created_from,
            created_to=other.created_to or self.created_to,
        )
