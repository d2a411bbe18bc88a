"""Erasing a person (the right to be forgotten) without rewriting a single event.

An admin's erasure is first recorded, as an audited fact, on the tenant's `ErasureRegister`
(and on the channels' `Person`, when the channels know them), then the person's key is
destroyed (crypto-shredding: every field sealed with it reads `[erased]` from then on, the
streams still replay and their hash chains still verify), then the read models let go of
what they derived (the search documents of the person's tickets; the files attached to them,
kept per person in the blob store: blobs.py says why),
and last the erasure is recorded as completed. Each step is idempotent: a crash between two
of them leaves an erasure recorded but not completed, which the next request for it, or the
sweep when intake starts, finishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid
from services.chassis.storage.processing import commit, find
from services.intake.attachments.blob_store import BlobStore, Owner
from services.intake.people.finder import People
from services.intake.people.people import Person
from services.intake.stored_topics import topics_of
from services.intake.tickets.application import Intake
from services.intake.tickets.projections import TicketsProjection


class ErasureRegister(Aggregate):
    """The tenant's erasures, by requester id: who asked, why, when, and whether it completed."""

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_uuid("erasures", tenant)

    @event("Started")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.erasures: dict[str, dict[str, Any]] = {}

    def record(self, requester_id: str, by: str, reason: str, at: str) -> None:
        if requester_id not in self.erasures:
            self._erasure_recorded(requester_id=requester_id, by=by, reason=reason, at=at)

    @event("ErasureRecorded")
    def _erasure_recorded(self, requester_id: str, by: str, reason: str, at: str) -> None:
        entry = {"requester_id": requester_id, "by": by, "reason": reason, "recorded_at": at, "completed_at": None}
        self.erasures = self.erasures | {requester_id: entry}

    def complete(self, requester_id: str, tickets: int, at: str) -> None:
        entry = self.erasures.get(requester_id)
        if entry is not None and entry["completed_at"] is None:
            self._erasure_completed(requester_id=requester_id, tickets=tickets, at=at)

    @event("ErasureCompleted")
    def _erasure_completed(self, requester_id: str, tickets: int, at: str) -> None:
        entry = self.erasures[requester_id] | {"completed_at": at, "tickets": tickets}
        self.erasures = self.erasures | {requester_id: entry}

    @property
    def pending(self) -> list[str]:
        return [r for r, entry in self.erasures.items() if entry["completed_at"] is None]


class UnknownPersonError(LookupError):
    """Nothing is held about this requester in this tenant (the same answer as another tenant's)."""


@dataclass(frozen=True)
class Erasures:
    """Erases requesters of intake's tickets and reports on erasures; the steps are described above."""

    intake: Intake
    people: People
    projection: TicketsProjection
    blobs: BlobStore | None = None

    def erase(self, tenant: str, requester_id: str, by: str, reason: str) -> dict[str, Any]:
        """Erase the requester, and with them whoever was merged with them (one customer: directory.py)."""
        erased = self._erase(tenant, requester_id, by, reason)
        for other in self.people.family(tenant, requester_id)[1:]:
            self._erase(tenant, other, by, reason)
        return erased

    def _erase(self, tenant: str, requester_id: str, by: str, reason: str) -> dict[str, Any]:
        state = self.state(tenant, requester_id)
        if state is None and not self.known(tenant, requester_id):
            raise UnknownPersonError(requester_id)
        if state is not None and state["completed_at"] is not None:
            return state  # erased before: nothing more to do
        self._record(tenant, requester_id, by, reason)
        return self.finish(tenant, requester_id)

    def finish(self, tenant: str, requester_id: str) -> dict[str, Any]:
        """Steps 2 to 4 of a recorded erasure (each a no-op when done before)."""
        self.intake.personal.destroy_key(tenant, requester_id)
        tickets = self.projection.requested_by(tenant, requester_id)
        self.projection.erase(tenant, requester_id)
        if self.blobs is not None:  # theirs: everything under them goes, and nobody else's file with it
            self.blobs.forget(Owner(tenant, requester_id))
        completed: list[dict[str, Any]] = []

        def decide() -> list[Aggregate]:
            register = self._register(tenant)
            register.complete(requester_id, len(tickets), datetime.now(UTC).isoformat())
            completed[:] = [register.erasures[requester_id]]
            return [register]

        commit(self.intake, decide)
        return completed[0]

    def finish_pending(self) -> int:
        """Complete every erasure recorded but not completed (a crash between the steps); how many."""
        finished = 0
        start = 1
        while page := self.intake.recorder.select_notifications(
            start, 1000, topics=topics_of(ErasureRegister, "Started")
        ):
            for notification in page:
                register = find(self.intake, UUID(str(notification.originator_id)), ErasureRegister)
                if register is None:
                    continue
                for requester_id in register.pending:
                    self.finish(register.tenant, requester_id)
                    finished += 1
            start = page[-1].id + 1
        return finished

    def state(self, tenant: str, requester_id: str) -> dict[str, Any] | None:
        entry = self._register(tenant).erasures.get(requester_id)
        return dict(entry) if entry is not None else None

    def all(self, tenant: str) -> list[dict[str, Any]]:
        return [dict(entry) for entry in self._register(tenant).erasures.values()]

    def known(self, tenant: str, requester_id: str) -> bool:
        """Whether anything was ever sealed for the requester, or the channels met them."""
        return (
            self.intake.personal.table.get(tenant, requester_id) is not None
            or self.people.person(tenant, requester_id) is not None
        )

    def _record(self, tenant: str, requester_id: str, by: str, reason: str) -> None:
        def decide() -> list[Aggregate]:
            register = self._register(tenant)
            if requester_id in register.erasures:
                return []
            register.record(requester_id, by, reason, datetime.now(UTC).isoformat())
            changed: list[Aggregate] = [register]
            person: Person | None = self.people.person(tenant, requester_id)
            if person is not None:
                person.mark_erased(by, reason)
                changed.append(person)
            return changed

        commit(self.intake, decide)

    def _register(self, tenant: str) -> ErasureRegister:
        found = find(self.intake, ErasureRegister.create_id(tenant), ErasureRegister)
        return found if found is not None else ErasureRegister(tenant)
