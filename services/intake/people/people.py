"""The people a desk hears from: found by any of their addresses, known by an id.

A message from `jane@example.com` (or Telegram user 4711) must land with the same requester
every time, without the desk keeping that address in the clear. An address is found by its
*blind index* (a keyed hash, see `PersonalData.blind_index`). A `Person` registered by a
channel takes an id derived from its first address's blind index, so two channels hearing from
a new person at once race to the same id and one of them wins (optimistic concurrency), never
two people for one address. Each address a person holds since people got several addresses is
claimed by an `AddressClaim` (addresses.py), which says who holds it now: after a merge, the
survivor.

The addresses, the display name, the notes and anything else personal are sealed with the
person's own key (`personal_data.py`). Once a person is erased their id is spent: a later
message from the same address finds the erased person and moves on to the next *generation*
of that address, a new person with nothing of the old one.

A person's requester id (on tickets) is their aggregate id as a string; the sealing key of
everything they wrote is filed under that same id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any
from uuid import UUID
from zoneinfo import available_timezones

from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid

CHANNELS = ("email", "telegram", "chat")
CHANGEABLE = ("name", "language", "time_zone", "organisation_id", "notes")
"""The fields of a person an admin changes (name and notes sealed)."""


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(zone: str) -> bool:
    """Whether `zone` names an IANA time zone (`Europe/Moscow`), as a person's `time_zone` must."""
    return zone in _time_zones()


def normalised(channel: str, address: str) -> str:
    """One spelling per address: e-mail addresses are compared without case."""
    address = address.strip()
    return f"{channel}:{address.lower() if channel == 'email' else address}"


class PersonError(Exception):
    """A command a person refuses; `field` names what the caller sent wrong."""

    field = "id"


class PersonGoneError(PersonError):
    """The person was erased or merged into another: they change no more."""

    def __init__(self, message: str, erased: bool) -> None:
        super().__init__(message)
        self.erased = erased


class AddressNotHeldError(PersonError):
    field = "address"


class Person(Aggregate):
    """Someone the desk knows. Every personal field is sealed; only the blind indexes find them."""

    active = True  # until deactivated (by their organisation's identity provider); a class default, so a
    # person loaded from a snapshot taken before the flag existed reads active

    class Registered(Aggregate.Created):
        """v2 adds the time zone, organisation and notes (none before); since v2 a person registered by an
        admin may have no address yet (`channel`, `blind` and `address` None)."""

        tenant: str
        channel: str | None
        blind: str | None
        generation: int
        address: str | None
        name: str | None
        language: str | None
        at: str
        time_zone: str | None
        organisation_id: str | None
        notes: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            for added in ("time_zone", "organisation_id", "notes"):
                state.setdefault(added, None)

    @staticmethod
    def create_id(tenant: str, blind: str, generation: int) -> UUID:
        return stable_uuid("people", tenant, blind, generation)

    @event(Registered)
    def __init__(
        self,
        tenant: str,
        channel: str | None,
        blind: str | None,
        generation: int,
        address: str | None,
        name: str | None,
        language: str | None,
        at: str,
        time_zone: str | None = None,
        organisation_id: str | None = None,
        notes: str | None = None,
    ) -> None:
        self.tenant = tenant
        self.channel = channel
        self.blind = blind
        self.generation = generation
        self.addresses: list[dict[str, str]] = (
            [{"channel": channel, "blind": blind, "address": address}] if channel and blind and address else []
        )
        self.name = name
        self.language = language
        self.time_zone = time_zone
        self.organisation_id = organisation_id
        self.notes = notes
        self.registered_at = at
        self.erased_at: str | None = None
        self.merged_into: str | None = None
        self.merged_from: list[str] = []

    @classmethod
    def enter(cls, person_id: UUID, tenant: str, details: dict[str, str | None], at: str) -> Person:
        """A person an admin registers (no address yet: `add_address` gives them theirs); `details` are the
        fields of `CHANGEABLE`, name and notes sealed."""
        return cls._create(
            cls.Registered, id=person_id, tenant=tenant, channel=None, blind=None, generation=0, address=None,
            at=at, **{field: details.get(field) for field in CHANGEABLE},
        )  # fmt: skip

    @property
    def address(self) -> str | None:
        """The (sealed) address the person was first heard from, or their first one now."""
        return self.addresses[0]["address"] if self.addresses else None

    @property
    def live(self) -> bool:
        return self.erased_at is None and self.merged_into is None

    def holds(self, blind: str) -> bool:
        return any(held["blind"] == blind for held in self.addresses)

    @event("AddressAdded")
    def add_address(self, channel: str, blind: str, address: str) -> None:
        self._check_live()
        if not self.holds(blind):
            self.addresses = [*self.addresses, {"channel": channel, "blind": blind, "address": address}]

    @event("AddressRemoved")
    def remove_address(self, blind: str) -> None:
        self._check_live()
        if not self.holds(blind):
            raise AddressNotHeldError("the person holds no such address")
        self.addresses = [held for held in self.addresses if held["blind"] != blind]

    @event("Changed")
    def change(self, changes: dict[str, str | None]) -> None:
        self._check_live()
        if unknown := sorted(set(changes) - set(CHANGEABLE)):
            raise PersonError(f"a person has no field {unknown[0]!r}")
        for field, value in changes.items():
            setattr(self, field, value)

    @event("MergedInto")
    def merge_into(self, survivor: str, by: str) -> None:
        """This person was the same as `survivor`: their addresses go to the survivor (`absorb`)."""
        self._check_live()
        if survivor == str(self.id):
            raise PersonError("a person cannot be merged into themself")
        self.merged_into = survivor

    @event("Absorbed")
    def absorb(self, other: str, addresses: list[dict[str, str]], by: str) -> None:
        """`other` was merged into this person, with their `addresses` (sealed with this person's key)."""
        self._check_live()
        known = {held["blind"] for held in self.addresses}
        self.addresses = [*self.addresses, *(a for a in addresses if a["blind"] not in known)]
        self.merged_from = [*self.merged_from, other]

    def set_active(self, active: bool, by: str) -> None:
        """Deactivate (their account was closed where it is managed) or activate again; nothing when unchanged."""
        self._check_live()
        if active != self.active:
            self._activity_changed(active=active, by=by)

    @event("ActivityChanged")
    def _activity_changed(self, active: bool, by: str) -> None:
        self.active = active

    def mark_erased(self, by: str, reason: str) -> None:
        if self.erased_at is None:
            self._erased(by=by, reason=reason, at=datetime.now(UTC).isoformat())

    @event("Erased")
    def _erased(self, by: str, reason: str, at: str) -> None:
        self.erased_at = at

    def _check_live(self) -> None:
        if self.erased_at is not None:
            raise PersonGoneError("the person was erased", erased=True)
        if self.merged_into is not None:
            raise PersonGoneError(f"the person was merged into {self.merged_into}", erased=False)
