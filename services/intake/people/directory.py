"""The admin's commands on people and organisations: each decides on fresh state and saves once.

Names, notes and addresses are sealed here, in the application, with the person's key; the adapters
(http/directory.py) hand over plain values and get ids back.

Merging: the survivor takes the merged person's addresses (sealed again with the survivor's key) and
the claims of those addresses, so a message from any of them lands on the survivor from then on; the
merged person is marked merged into the survivor and changes no more. Their tickets keep their
requester (a ticket's history is never rewritten, and its words stay sealed with the key of whoever
wrote them); the survivor's ticket list covers the tickets of everyone merged into them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from services.chassis.storage.processing import commit, find
from services.intake.people.addresses import AddressClaim
from services.intake.people.finder import People
from services.intake.people.organisations import DomainClaim, Organisation
from services.intake.people.people import Person, PersonError, PersonGoneError
from services.intake.privacy.personal_data import PersonalData

SEALED = ("name", "notes")


class DirectoryError(Exception):
    """A refused command, naming the field the caller sent wrong; `status` is how HTTP answers it."""

    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class UnknownPersonError(DirectoryError):
    status = 404


class UnknownOrganisationError(DirectoryError):
    """An organisation named that the tenant does not have (404 on its own path, 422 in a body)."""


class AddressHeldError(DirectoryError):
    status = 409


class DomainHeldError(DirectoryError):
    pass


class PersonGoneRefusal(DirectoryError):
    """The person was merged into another (409), or erased (410, as sealing anything for them answers)."""

    def __init__(self, field: str, message: str, erased: bool) -> None:
        super().__init__(field, message)
        self.status = 410 if erased else 409


@dataclass(frozen=True)
class Address:
    channel: str
    address: str


@dataclass(frozen=True)
class Directory:
    app: Application[UUID]
    people: People
    personal: PersonalData

    # -- people --------------------------------------------------------------

    def register_person(
        self,
        tenant: str,
        details: Mapping[str, str | None],
        addresses: Sequence[Address],
        by: str,
        person_id: UUID | None = None,
        active: bool = True,
    ) -> str:
        """A new person with `details` (see people.CHANGEABLE) and `addresses`, deactivated unless `active`; their
        id (`person_id`: one the caller derived, as an import does from the source's key, so a second run finds
        them)."""
        chosen = person_id or uuid4()

        def decide() -> list[Aggregate]:
            self._check_organisation(tenant, details.get("organisation_id"))
            person = Person.enter(chosen, tenant, self._sealed(tenant, str(chosen), details), _now())
            claims = [self._claim(tenant, person, a, f"addresses.{n}") for n, a in enumerate(addresses)]
            person.set_active(active, by)
            return [person, *claims]

        commit(self.app, decide)
        return str(chosen)

    def change_person(self, tenant: str, person_id: str, changes: Mapping[str, str | None], by: str) -> None:
        def decide() -> list[Aggregate]:
            person = self._person(tenant, person_id)
            self._check_organisation(tenant, changes.get("organisation_id"))
            _refused(person.change, dict(self._sealed(tenant, person_id, changes)))
            return [person]

        commit(self.app, decide)

    def add_address(self, tenant: str, person_id: str, address: Address, by: str) -> None:
        def decide() -> list[Aggregate]:
            person = self._person(tenant, person_id)
            return [person, self._claim(tenant, person, address, "address")]

        commit(self.app, decide)

    def remove_address(self, tenant: str, person_id: str, address: Address, by: str) -> None:
        blind = self.people.blind(tenant, address.channel, address.address)

        def decide() -> list[Aggregate]:
            person = self._person(tenant, person_id)
            _refused(person.remove_address, blind)
            claim = find(self.app, AddressClaim.create_id(tenant, blind), AddressClaim)
            if claim is None:
                return [person]
            if claim.holder == person_id:
                claim.release()
            return [person, claim]

        commit(self.app, decide)

    def provision(
        self,
        tenant: str,
        person_id: str,
        changes: Mapping[str, str | None],
        addresses: Sequence[Address],
        channel: str,
        active: bool,
        by: str,
    ) -> None:
        """Bring a person in line with an identity provider's record of them, in one save: `changes` to their
        fields, their addresses on `channel` exactly `addresses` (others added, the rest let go), and whether
        they are active."""

        def decide() -> list[Aggregate]:
            person = self._person(tenant, person_id)
            self._check_organisation(tenant, changes.get("organisation_id"))
            if changes:
                _refused(person.change, dict(self._sealed(tenant, person_id, changes)))
            wanted = {self.people.blind(tenant, a.channel, a.address): a for a in addresses}
            changed: list[Aggregate] = [person]
            for held in [h for h in person.addresses if h["channel"] == channel and h["blind"] not in wanted]:
                _refused(person.remove_address, held["blind"])
                claim = find(self.app, AddressClaim.create_id(tenant, held["blind"]), AddressClaim)
                if claim is not None and claim.holder == person_id:
                    claim.release()
                    changed.append(claim)
            for n, (blind, address) in enumerate(wanted.items()):
                if not person.holds(blind):
                    changed.append(self._claim(tenant, person, address, f"addresses.{n}"))
            _refused(person.set_active, active, by)
            return changed

        commit(self.app, decide)

    def merge(self, tenant: str, survivor_id: str, other_id: str, by: str) -> None:
        """`other_id` is the same customer as `survivor_id`: merged into them (see the module's docstring)."""

        def decide() -> list[Aggregate]:
            survivor, other = self._person(tenant, survivor_id), self._person(tenant, other_id, "merged_id")
            if survivor.id == other.id:
                raise DirectoryError("merged_id", "a person cannot be merged into themself")
            opened = self.personal.unseal
            moved = [
                held | {"address": self.personal.seal(tenant, survivor_id, opened(tenant, held["address"]))}
                for held in other.addresses
            ]
            _refused(other.merge_into, survivor_id, by, field="merged_id")
            _refused(survivor.absorb, other_id, moved, by)
            claims: list[Aggregate] = []
            for held in other.addresses:
                claim = find(self.app, AddressClaim.create_id(tenant, held["blind"]), AddressClaim)
                if claim is None:
                    claims.append(AddressClaim(tenant, held["blind"], survivor_id))
                elif claim.holder in (other_id, None):
                    claim.reclaim(survivor_id)
                    claims.append(claim)
            return [survivor, other, *claims]

        commit(self.app, decide)

    # -- organisations -------------------------------------------------------

    def register_organisation(
        self, tenant: str, details: Mapping[str, Any], by: str, organisation_id: UUID | None = None
    ) -> str:
        """A new organisation; its id (`organisation_id`: one the caller derived, as for a person)."""
        chosen = str(organisation_id or uuid4())
        details = _domains_once(details)

        def decide() -> list[Aggregate]:
            organisation = Organisation._create(
                Organisation.Registered, id=UUID(chosen), tenant=tenant, by=by, **details
            )
            return [organisation, *self._claim_domains(tenant, chosen, [], details["domains"])]

        commit(self.app, decide)
        return chosen

    def change_organisation(self, tenant: str, organisation_id: str, changes: Mapping[str, Any], by: str) -> None:
        changes = _domains_once(changes)

        def decide() -> list[Aggregate]:
            organisation = self.organisation(tenant, organisation_id, field="id")
            claims = []
            if "domains" in changes:
                claims = self._claim_domains(tenant, organisation_id, organisation.domains, changes["domains"])
            organisation.change(dict(changes), by)
            return [organisation, *claims]

        commit(self.app, decide)

    def organisation(self, tenant: str, organisation_id: str, field: str = "organisation_id") -> Organisation:
        try:
            found = find(self.app, UUID(organisation_id), Organisation)
        except ValueError:
            found = None
        if found is None or found.tenant != tenant:
            raise UnknownOrganisationError(field, f"no organisation {organisation_id!r} in this tenant")
        return found

    # -- the parts -----------------------------------------------------------

    def _person(self, tenant: str, person_id: str, field: str = "id") -> Person:
        person = self.people.person(tenant, person_id)
        if person is None:
            raise UnknownPersonError(field, f"no person {person_id!r} in this tenant")
        return person

    def _check_organisation(self, tenant: str, organisation_id: str | None) -> None:
        if organisation_id is not None:
            self.organisation(tenant, organisation_id)

    def _sealed(self, tenant: str, person_id: str, details: Mapping[str, str | None]) -> dict[str, str | None]:
        seal = self.personal.seal
        return {k: seal(tenant, person_id, v) if k in SEALED and v is not None else v for k, v in details.items()}

    def _claim(self, tenant: str, person: Person, address: Address, field: str) -> AddressClaim:
        """`person` takes `address` (409 when another holds it), and its claim."""
        blind = self.people.blind(tenant, address.channel, address.address)
        holder = self.people.holder_of(tenant, blind)
        if holder is not None and holder.id != person.id:
            raise AddressHeldError(field, f"another person ({holder.id}) holds this {address.channel} address")
        sealed = self.personal.seal(tenant, str(person.id), address.address.strip())
        _refused(person.add_address, address.channel, blind, sealed)
        claim = find(self.app, AddressClaim.create_id(tenant, blind), AddressClaim)
        if claim is None:
            return AddressClaim(tenant, blind, str(person.id))
        if claim.holder != str(person.id):
            claim.reclaim(str(person.id))
        return claim

    def _claim_domains(self, tenant: str, holder: str, before: list[str], after: list[str]) -> list[Aggregate]:
        """The claims of the domains `after` names (each once: `_domains_once`) and the release of those it left."""
        changed: list[Aggregate] = []
        for n, domain in enumerate(after):
            if domain in before:
                continue
            claim = find(self.app, DomainClaim.create_id(tenant, domain), DomainClaim)
            if claim is not None and claim.holder not in (None, holder):
                raise DomainHeldError(f"domains.{n}", f"the organisation {claim.holder} holds the domain {domain!r}")
            if claim is None:
                changed.append(DomainClaim(tenant, domain, holder))
            else:
                claim.reclaim(holder)
                changed.append(claim)
        for domain in set(before) - set(after):
            if (claim := find(self.app, DomainClaim.create_id(tenant, domain), DomainClaim)) is not None:
                claim.release()
                changed.append(claim)
        return changed


def _domains_once(fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields` with its domains each once, in their order. A domain named twice was claimed twice in one save,
    which then met itself as a conflict, was tried again until given up, and was answered 500."""
    once = dict(fields)
    if once.get("domains") is not None:
        once["domains"] = list(dict.fromkeys(once["domains"]))
    return once


def _refused(command: Any, *args: Any, field: str | None = None) -> None:
    """Run an aggregate's command, its refusal as a DirectoryError naming the field (`field`, or the error's)."""
    try:
        command(*args)
    except PersonGoneError as error:
        raise PersonGoneRefusal(field or error.field, str(error), error.erased) from None
    except PersonError as error:
        raise DirectoryError(field or error.field, str(error)) from None


def _now() -> str:
    return datetime.now(UTC).isoformat()
