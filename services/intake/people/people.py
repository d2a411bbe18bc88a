"""The people a desk hears from on its channels: found by an address, known by an id.

A message from `jane@example.com` (or Telegram user 4711) must land with the same requester
every time, without the desk keeping that address in the clear. A `Person` is found by a
*blind index* of its channel address (a keyed hash, see `PersonalData.blind_index`): the
person's id is derived from it, so two channels hearing from a new person at once race to the
same id and one of them wins (optimistic concurrency), never two people for one address.

The address, the display name and anything else personal are sealed with the person's own key
(`personal_data.py`). Once a person is erased their id is spent: a later message from the same
address finds the erased person and moves on to the next *generation* of that address, a new
person with nothing of the old one.

A person's requester id (on tickets) is their aggregate id as a string; the sealing key of
everything they wrote is filed under that same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from services.chassis.storage.ids import stable_uuid
from services.chassis.storage.processing import find
from services.intake.privacy.personal_data import PersonalData

ATTEMPTS = 20


def normalised(channel: str, address: str) -> str:
    """One spelling per address: e-mail addresses are compared without case."""
    address = address.strip()
    return f"{channel}:{address.lower() if channel == 'email' else address}"


class Person(Aggregate):
    """Someone who wrote to the desk. Every personal field is sealed; only `blind` finds them."""

    @staticmethod
    def create_id(tenant: str, blind: str, generation: int) -> UUID:
        return stable_uuid("people", tenant, blind, generation)

    @event("Registered")
    def __init__(
        self,
        tenant: str,
        channel: str,
        blind: str,
        generation: int,
        address: str,
        name: str | None,
        language: str | None,
        at: str,
    ) -> None:
        self.tenant = tenant
        self.channel = channel
        self.blind = blind
        self.generation = generation
        self.address = address
        self.name = name
        self.language = language
        self.registered_at = at
        self.erased_at: str | None = None

    def mark_erased(self, by: str, reason: str) -> None:
        if self.erased_at is None:
            self._erased(by=by, reason=reason, at=datetime.now(UTC).isoformat())

    @event("Erased")
    def _erased(self, by: str, reason: str, at: str) -> None:
        self.erased_at = at


@dataclass(frozen=True)
class Profile:
    """What the desk knows of a person, opened (fields read `ERASED` once they were erased)."""

    requester_id: str
    channel: str
    address: str
    name: str | None
    language: str | None
    erased: bool


class People:
    """Finds or registers the person behind a channel address; reads their profile back."""

    def __init__(self, app: Application[UUID], personal: PersonalData) -> None:
        self.app = app
        self.personal = personal

    def requester_for(
        self, tenant: str, channel: str, address: str, name: str | None = None, language: str | None = None
    ) -> str:
        """The requester id of whoever writes from `address` on `channel`, registering them if new."""
        blind = self.personal.blind_index(tenant, normalised(channel, address))
        generation = 0
        for _ in range(ATTEMPTS):
            person_id = Person.create_id(tenant, blind, generation)
            found = find(self.app, person_id, Person)
            if found is not None and found.erased_at is not None:
                generation += 1
                continue
            if found is not None:
                return str(found.id)
            requester = str(person_id)
            person = Person(
                tenant=tenant,
                channel=channel,
                blind=blind,
                generation=generation,
                address=self.personal.seal(tenant, requester, address.strip()),
                name=self.personal.seal(tenant, requester, name) if name else None,
                language=language,
                at=datetime.now(UTC).isoformat(),
            )
            try:
                self.app.save(person)
            except IntegrityError:
                continue  # another channel registered them first: find them
            return requester
        raise RuntimeError("could not register the person: too much contention")

    def person(self, tenant: str, requester_id: str) -> Person | None:
        try:
            person_id = UUID(requester_id)
        except ValueError:
            return None  # a requester named by the API, not one the channels met
        found = find(self.app, person_id, Person)
        return found if found is not None and found.tenant == tenant else None

    def profile(self, tenant: str, requester_id: str) -> Profile | None:
        """The requester's profile, or None when the channels never met them."""
        if (person := self.person(tenant, requester_id)) is None:
            return None
        opened: dict[str, Any] = {
            "address": self.personal.unseal(tenant, person.address),
            "name": self.personal.unseal(tenant, person.name) if person.name else None,
        }
        return Profile(
            requester_id, person.channel, erased=person.erased_at is not None, language=person.language, **opened
        )

    def contact(self, tenant: str, requester_id: str, channel: str) -> str | None:
        """Where to answer the requester on `channel`: None when unknown there, or erased."""
        profile = self.profile(tenant, requester_id)
        if profile is None or profile.erased or profile.channel != channel:
            return None
        return profile.address
