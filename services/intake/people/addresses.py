"""Who holds an address now: one `AddressClaim` per blind index of a channel address.

A person holds each of their addresses through its claim, whose id derives from the address's
blind index: two admins (or an admin and a channel) claiming one address at once race on one
aggregate, and only one of them wins. A merge moves the claims of the merged person's addresses
to the survivor, so a message from any of them lands on the survivor from then on. A claim
whose holder was erased, or that was released, is free: whoever writes from the address next is
someone new. The claim holds no address, only its blind index and the holder's id.

People the channels registered before claims existed hold their first address without one: the
finder (finder.py) claims it for them the next time it meets them.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid


class AddressClaim(Aggregate):
    @staticmethod
    def create_id(tenant: str, blind: str) -> UUID:
        return stable_uuid("person-address", tenant, blind)

    @event("Claimed")
    def __init__(self, tenant: str, blind: str, holder: str) -> None:
        self.tenant = tenant
        self.blind = blind
        self.holder: str | None = holder

    @event("Reclaimed")
    def reclaim(self, holder: str) -> None:
        """The address is `holder`'s now (a merge's survivor, or someone new after an erasure)."""
        self.holder = holder

    @event("Released")
    def release(self) -> None:
        self.holder = None
