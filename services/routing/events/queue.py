"""What a group's queue records: a ticket queued, gone, or of another priority now.

`Queue` (domain.py) names each class here (`TicketQueued = queue.TicketQueued`...), where eventsourcing
makes it the class it stores, so each keeps its topic `services.routing.domain:Queue.<Event>`. Each
applies itself to the queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

if TYPE_CHECKING:
    from services.routing.domain import Queue


class TicketQueued(Aggregate.Event):
    ticket_id: str
    priority: str
    opened_at: str = ""  # stored without it before queues ordered by when tickets opened

    def apply(self, queue: Queue) -> None:
        queue.arrivals += 1
        waiting = {"priority": self.priority, "opened_at": self.opened_at, "seq": queue.arrivals}
        queue.waiting_tickets = queue.waiting_tickets | {self.ticket_id: waiting}


class TicketLeft(Aggregate.Event):
    ticket_id: str

    def apply(self, queue: Queue) -> None:
        queue.waiting_tickets = {t: w for t, w in queue.waiting_tickets.items() if t != self.ticket_id}


class TicketReprioritised(Aggregate.Event):
    ticket_id: str
    priority: str

    def apply(self, queue: Queue) -> None:
        waiting = queue.waiting_tickets[self.ticket_id] | {"priority": self.priority}
        queue.waiting_tickets = queue.waiting_tickets | {self.ticket_id: waiting}
