"""Finding the person behind an address (registering them when new) and reading their profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from services.chassis.storage.processing import commit, find
from services.intake.people.addresses import AddressClaim
from services.intake.people.organisations import DomainClaim, Organisation, domain_of
from services.intake.people.people import Person, normalised
from services.intake.privacy.personal_data import PersonalData

MAX_MERGES = 20  # a chain of merges this long is followed; no chain is (a survivor is live when merged into)


@dataclass(frozen=True)
class Profile:
    """What the desk knows of a person, opened (fields read `ERASED` once they were erased). `channel` and
    `address` are their first address (None when they have none)."""

    requester_id: str
    channel: str | None
    address: str | None
    name: str | None
    language: str | None
    erased: bool
    addresses: list[dict[str, str]] = field(default_factory=list)  # channel and address, opened
    time_zone: str | None = None
    organisation_id: str | None = None
    notes: str | None = None
    merged_into: str | None = None
    merged_from: list[str] = field(default_factory=list)
    active: bool = True


class People:
    """Finds or registers the person behind a channel address; reads their profile back."""

    def __init__(self, app: Application[UUID], personal: PersonalData) -> None:
        self.app = app
        self.personal = personal

    def blind(self, tenant: str, channel: str, address: str) -> str:
        return self.personal.blind_index(tenant, normalised(channel, address))

    def requester_for(
        self, tenant: str, channel: str, address: str, name: str | None = None, language: str | None = None
    ) -> str:
        """The requester id of whoever writes from `address` on `channel` (the survivor, when they were merged),
        registering them if new: in the organisation holding the domain of a new e-mail address."""
        blind = self.blind(tenant, channel, address)
        registered: list[str] = []

        def decide() -> list[Aggregate]:
            claim = find(self.app, AddressClaim.create_id(tenant, blind), AddressClaim)
            if claim is None and (legacy := self._unclaimed(tenant, blind)) is not None:
                registered[:] = [str(legacy.id)]  # registered before claims: claimed for them from now on
                return [AddressClaim(tenant, blind, str(legacy.id))]
            holder = self.following(tenant, claim.holder) if claim is not None and claim.holder else None
            if holder is not None and holder.erased_at is None:
                registered[:] = [str(holder.id)]
                return []
            generation = 0
            while find(self.app, Person.create_id(tenant, blind, generation), Person) is not None:
                generation += 1  # erased (or let go of the address): whoever writes from it now is someone new
            requester = str(Person.create_id(tenant, blind, generation))
            registered[:] = [requester]
            person = Person(
                tenant=tenant, channel=channel, blind=blind, generation=generation,
                address=self.personal.seal(tenant, requester, address.strip()),
                name=self.personal.seal(tenant, requester, name) if name else None,
                language=language, at=datetime.now(UTC).isoformat(),
                organisation_id=self.organisation_by_domain(tenant, address) if channel == "email" else None,
            )  # fmt: skip
            if claim is None:
                return [person, AddressClaim(tenant, blind, requester)]
            claim.reclaim(requester)
            return [person, claim]

        commit(self.app, decide)  # another channel registering them first: the loser finds them
        return registered[0]

    def holder_of(self, tenant: str, blind: str) -> Person | None:
        """The live person who holds the address now (after merges, the survivor); None when it is free."""
        claim = find(self.app, AddressClaim.create_id(tenant, blind), AddressClaim)
        if claim is None:
            return self._unclaimed(tenant, blind)
        holder = self.following(tenant, claim.holder) if claim.holder else None
        return holder if holder is not None and holder.erased_at is None else None

    def following(self, tenant: str, requester_id: str) -> Person | None:
        """The person, or whom they were merged into (and so on)."""
        person = self.person(tenant, requester_id)
        for _ in range(MAX_MERGES):
            if person is None or person.merged_into is None:
                return person
            person = self.person(tenant, person.merged_into)
        return person

    def family(self, tenant: str, requester_id: str) -> list[str]:
        """`requester_id`, whom they were merged into, and everyone merged into any of them: one customer."""
        root = self.following(tenant, requester_id)
        found, waiting = [requester_id], [root] if root is not None else []
        while waiting:
            person = waiting.pop()
            for other in (str(person.id), *person.merged_from):
                if other not in found:
                    found.append(other)
                    waiting += [p] if (p := self.person(tenant, other)) is not None else []
        return found

    def organisation_by_domain(self, tenant: str, address: str) -> str | None:
        """The organisation holding the domain of an e-mail address, if one does."""
        domain = domain_of(address)
        claim = find(self.app, DomainClaim.create_id(tenant, domain), DomainClaim) if domain else None
        return claim.holder if claim is not None else None

    def organisation(self, tenant: str, organisation_id: str | None) -> Organisation | None:
        """The tenant's organisation of that id; None for none, or for a name only routing rules know."""
        try:
            found = find(self.app, UUID(organisation_id), Organisation) if organisation_id else None
        except ValueError:
            return None
        return found if found is not None and found.tenant == tenant else None

    def person(self, tenant: str, requester_id: str) -> Person | None:
        try:
            person_id = UUID(requester_id)
        except ValueError:
            return None  # a requester named by the API, not one the desk registered
        found = find(self.app, person_id, Person)
        return found if found is not None and found.tenant == tenant else None

    def profile(self, tenant: str, requester_id: str) -> Profile | None:
        """The requester's profile, or None when the desk never registered them."""
        if (person := self.person(tenant, requester_id)) is None:
            return None
        opened = self.personal.unseal
        addresses = [{"channel": a["channel"], "address": opened(tenant, a["address"])} for a in person.addresses]
        return Profile(
            requester_id,
            addresses[0]["channel"] if addresses else None,
            addresses[0]["address"] if addresses else None,
            opened(tenant, person.name) if person.name else None,
            person.language,
            erased=person.erased_at is not None,
            addresses=addresses,
            time_zone=person.time_zone,
            organisation_id=person.organisation_id,
            notes=opened(tenant, person.notes) if person.notes else None,
            merged_into=person.merged_into,
            merged_from=list(person.merged_from),
            active=person.active,
        )

    def contact(self, tenant: str, requester_id: str, channel: str) -> str | None:
        """Where to answer the requester on `channel`: None when unknown there, or erased."""
        profile = self.profile(tenant, requester_id)
        if profile is None or profile.erased:
            return None
        return next((held["address"] for held in profile.addresses if held["channel"] == channel), None)

    def _unclaimed(self, tenant: str, blind: str) -> Person | None:
        """The live person the channels registered for the address before addresses were claimed."""
        generation = 0
        while (found := find(self.app, Person.create_id(tenant, blind, generation), Person)) is not None:
            if found.live and found.holds(blind):
                return found
            generation += 1
        return None
