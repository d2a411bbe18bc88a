"""The counter that numbers a tenant's tickets. Pure: no I/O here."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid


class TicketNumbers(Aggregate):
    """Issues a tenant's ticket numbers for one year: dense, never reused.

    Saved in the same transaction as the tickets it numbers, so optimistic
    concurrency makes two concurrent openings take two different numbers.
    """

    @staticmethod
    def create_id(tenant: str, year: int) -> UUID:
        return stable_uuid("ticket-numbers", tenant, year)

    @event("Started")
    def __init__(self, tenant: str, year: int) -> None:
        self.tenant = tenant
        self.year = year
        self.last = 0

    @event("Issued")
    def issue(self) -> None:
        self.last += 1

    @property
    def current(self) -> str:
        return f"SD-{self.year}-{self.last:06d}"
