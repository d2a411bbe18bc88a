"""The desk's customers and their organisations: `/v1/people` and `/v1/organisations`.

Staff read; the tenant's admin registers and changes. Each route hands plain values to one
command of the directory (people/directory.py), which seals what is personal.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.chassis.http.auth import Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.chassis.http.openapi import problems
from services.intake.http.queries import TicketSummary, summary_of
from services.intake.people.directory import Address, Directory, DirectoryError, UnknownPersonError
from services.intake.people.finder import Profile
from services.intake.people.index import PeopleIndex
from services.intake.people.organisations import Organisation, domain_of
from services.intake.people.people import is_time_zone
from services.intake.tickets.projections import TicketsProjection

STAFF = requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
ADMIN = requires(Role.ADMIN)
PersonId = Annotated[str, Path(min_length=1, max_length=100, description="The person's id (their requester id).")]
OrganisationId = Annotated[str, Path(min_length=1, max_length=100)]
Channel = Literal["email", "telegram", "chat"]
DOMAIN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
Scalar = str | int | float | bool | None


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel
    address: str = Field(min_length=1, max_length=320, description="An e-mail address, a Telegram user id, a chat id.")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an address is not blank")
        return value.strip()

    def plain(self) -> Address:
        if self.channel == "email" and domain_of(self.address) is None:
            raise ValueError("not an e-mail address")
        return Address(self.channel, self.address)


class PersonFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    language: str | None = Field(None, pattern=r"^[a-z]{2}$", description="ISO 639-1, e.g. `ru`.")
    time_zone: str | None = Field(None, min_length=1, max_length=64, description="IANA, e.g. `Europe/Moscow`.")
    organisation_id: str | None = Field(None, min_length=1, max_length=100, description="An organisation's id.")
    notes: str | None = Field(None, max_length=5000, description="Staff's notes about the person (sealed).")

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not is_time_zone(value):
            raise ValueError("not an IANA time zone")
        return value


class NewPerson(PersonFields):
    addresses: list[AddressIn] = Field(default_factory=list, max_length=20)

    @field_validator("addresses")
    @classmethod
    def _emails(cls, value: list[AddressIn]) -> list[AddressIn]:
        for address in value:
            address.plain()
        return value


class AddressView(BaseModel):
    channel: str
    address: str


class PersonView(BaseModel):
    id: str
    name: str | None
    addresses: list[AddressView]
    language: str | None
    time_zone: str | None
    organisation_id: str | None
    notes: str | None
    erased: bool
    merged_into: str | None = Field(description="Whom this person was merged into: they are that person now.")
    merged_from: list[str] = Field(description="Who was merged into this person.")
    active: bool = Field(description="False once their identity provider deactivated them (SCIM).")

    @classmethod
    def of(cls, profile: Profile) -> PersonView:
        return cls(
            id=profile.requester_id, name=profile.name, addresses=[AddressView(**a) for a in profile.addresses],
            language=profile.language, time_zone=profile.time_zone, organisation_id=profile.organisation_id,
            notes=profile.notes, erased=profile.erased, merged_into=profile.merged_into,
            merged_from=profile.merged_from, active=profile.active,
        )  # fmt: skip


class Merge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    merged_id: str = Field(min_length=1, max_length=100, description="The person who is the same customer.")


# The SLA service owns its policies and calendars, and intake does not ask it: an id is taken as given (it may
# name one defined later). A ticket's clock passes over one SLA does not know, logged and counted there.
SLA_POLICY = (
    "The organisation's own SLA policy (an id of `/v1/sla/policies`): its tickets count their targets by it, whatever"
    " the policies' conditions. Not checked here: while the SLA service has no such policy, its conditions choose."
    " A change reaches the tickets opened after it; an open ticket keeps its clock."
)
SLA_CALENDAR = (
    "The organisation's own business hours (an id of `/v1/sla/calendars`, or `24x7`): its tickets' targets count"
    " in it, whichever policy sets them. Not checked here: while the SLA service has no such calendar, the policy's"
    " own counts. A change reaches the tickets opened after it."
)


class OrganisationFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    domains: list[Annotated[str, Field(pattern=DOMAIN, max_length=253)]] = Field(
        default_factory=list, max_length=50, description="E-mail domains, lower case: a new address of one joins."
    )
    sla_calendar_id: str | None = Field(None, min_length=1, max_length=100, description=SLA_CALENDAR)
    sla_policy_id: str | None = Field(None, min_length=1, max_length=100, description=SLA_POLICY)
    custom_fields: dict[Annotated[str, Field(min_length=1, max_length=100)], Scalar] = Field(
        default_factory=dict, max_length=50
    )


class OrganisationChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    domains: list[Annotated[str, Field(pattern=DOMAIN, max_length=253)]] | None = Field(None, max_length=50)
    sla_calendar_id: str | None = Field(None, min_length=1, max_length=100, description=SLA_CALENDAR)
    sla_policy_id: str | None = Field(None, min_length=1, max_length=100, description=SLA_POLICY)
    custom_fields: dict[Annotated[str, Field(min_length=1, max_length=100)], Scalar] | None = Field(None, max_length=50)


class OrganisationView(OrganisationFields):
    id: str

    @classmethod
    def of(cls, organisation: Organisation) -> OrganisationView:
        return cls(
            id=str(organisation.id), name=organisation.name, domains=organisation.domains,
            sla_calendar_id=organisation.sla_calendar_id, sla_policy_id=organisation.sla_policy_id,
            custom_fields=organisation.custom_fields,
        )  # fmt: skip


class PeopleList(BaseModel):
    people: list[PersonView]


class OrganisationList(BaseModel):
    organisations: list[OrganisationView]


class PersonTickets(BaseModel):
    tickets: list[TicketSummary] = Field(
        description="Newest first: the person's tickets and those of everyone merged with them (each keeps its"
        " `requester_id`), on every channel."
    )


def people_router(directory: Directory, index: PeopleIndex, tickets: TicketsProjection) -> APIRouter:
    api = APIRouter(prefix="/v1/people", tags=["people"], responses=problems(409, 410))

    @api.get("", dependencies=[STAFF])
    async def listing(
        who: CurrentIdentity,
        q: Annotated[str | None, Query(max_length=200, description="Words of a name or an address.")] = None,
        organisation_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> PeopleList:
        """The tenant's people, oldest first (those merged into another left out); `q` finds them by any word
        of their name or addresses, in any form (`a or b`, `-word` as for tickets), through keyed tokens."""
        await index.holding_the_store()
        found = await asyncio.to_thread(index.people, who.tenant, q, organisation_id, limit)
        profiles = await asyncio.to_thread(lambda: [directory.people.profile(who.tenant, p) for p in found])
        return PeopleList(people=[PersonView.of(profile) for profile in profiles if profile is not None])

    @api.get("/{person_id}/tickets", dependencies=[STAFF])
    async def person_tickets(
        person_id: PersonId, who: CurrentIdentity, limit: Annotated[int, Query(ge=1, le=500)] = 100
    ) -> PersonTickets:
        """The person's tickets on every channel, with those of whoever was merged with them (one customer)."""
        await view(who.tenant, person_id)

        def read() -> list[dict[str, Any]]:
            rows = [
                row
                for requester in directory.people.family(who.tenant, person_id)
                for row in tickets.list_tickets(who.tenant, requester_id=requester, limit=limit)[0]
            ]
            return sorted(rows, key=lambda row: (row["created_at"], row["ticket_id"]), reverse=True)[:limit]

        rows = await asyncio.to_thread(read)
        return PersonTickets(tickets=[TicketSummary(**summary_of(row)) for row in rows])

    async def view(tenant: str, person_id: str) -> PersonView:
        profile = await asyncio.to_thread(directory.people.profile, tenant, person_id)
        if profile is None:
            raise UnknownPersonError("id", f"no person {person_id!r} in this tenant")
        return PersonView.of(profile)

    @api.post("", status_code=201, dependencies=[ADMIN])
    async def register(body: NewPerson, who: CurrentIdentity) -> PersonView:
        """A new person with their addresses (409 when another person holds one: merge them instead)."""
        details = body.model_dump(exclude={"addresses"})
        addresses = [address.plain() for address in body.addresses]
        person_id = await asyncio.to_thread(directory.register_person, who.tenant, details, addresses, who.actor)
        return await view(who.tenant, person_id)

    @api.get("/{person_id}", dependencies=[STAFF])
    async def read(person_id: PersonId, who: CurrentIdentity) -> PersonView:
        """The person, opened: every address, their organisation, notes; `merged_into` when they were merged."""
        return await view(who.tenant, person_id)

    @api.patch("/{person_id}", dependencies=[ADMIN])
    async def change(person_id: PersonId, body: PersonFields, who: CurrentIdentity) -> PersonView:
        """Change the fields given (null clears one)."""
        changes = body.model_dump(exclude_unset=True)
        await asyncio.to_thread(directory.change_person, who.tenant, person_id, changes, who.actor)
        return await view(who.tenant, person_id)

    @api.post("/{person_id}/addresses", dependencies=[ADMIN])
    async def add_address(person_id: PersonId, body: AddressIn, who: CurrentIdentity) -> PersonView:
        """The person takes one more address (409 when another person holds it)."""
        try:
            address = body.plain()
        except ValueError as error:
            raise _invalid("address", str(error)) from None
        await asyncio.to_thread(directory.add_address, who.tenant, person_id, address, who.actor)
        return await view(who.tenant, person_id)

    @api.delete("/{person_id}/addresses", dependencies=[ADMIN])
    async def remove_address(
        person_id: PersonId,
        who: CurrentIdentity,
        channel: Annotated[Channel, Query()],
        address: Annotated[str, Query(min_length=1, max_length=320)],
    ) -> PersonView:
        """The person lets go of an address: whoever writes from it next is someone new."""
        await asyncio.to_thread(directory.remove_address, who.tenant, person_id, Address(channel, address), who.actor)
        return await view(who.tenant, person_id)

    @api.post("/{person_id}/merge", dependencies=[ADMIN])
    async def merge(person_id: PersonId, body: Merge, who: CurrentIdentity) -> PersonView:
        """`merged_id` is the same customer: this person takes their addresses, and is who writes from them
        from now on; their tickets keep their requester and are listed with this person's."""
        await asyncio.to_thread(directory.merge, who.tenant, person_id, body.merged_id, who.actor)
        return await view(who.tenant, person_id)

    return api


def organisations_router(directory: Directory, index: PeopleIndex) -> APIRouter:
    api = APIRouter(prefix="/v1/organisations", tags=["organisations"], responses=problems(409))

    @api.get("", dependencies=[STAFF])
    async def listing(who: CurrentIdentity) -> OrganisationList:
        """The tenant's organisations, by name."""

        await index.holding_the_store()

        def read() -> list[Organisation]:
            return [directory.organisation(who.tenant, o) for o in index.organisations(who.tenant)]

        return OrganisationList(organisations=[OrganisationView.of(o) for o in await asyncio.to_thread(read)])

    async def view(tenant: str, organisation_id: str) -> OrganisationView:
        found = await asyncio.to_thread(directory.organisation, tenant, organisation_id, "id")
        return OrganisationView.of(found)

    @api.post("", status_code=201, dependencies=[ADMIN])
    async def register(body: OrganisationFields, who: CurrentIdentity) -> OrganisationView:
        """A new organisation (422 naming `domains.N` when another holds that domain). Its SLA policy and calendar
        are taken as given: the SLA service owns them, and falls back to its rules for an id it does not know."""
        organisation_id = await asyncio.to_thread(
            directory.register_organisation, who.tenant, body.model_dump(), who.actor
        )
        return await view(who.tenant, organisation_id)

    @api.get("/{organisation_id}", dependencies=[STAFF])
    async def read(organisation_id: OrganisationId, who: CurrentIdentity) -> OrganisationView:
        return await view(who.tenant, organisation_id)

    @api.patch("/{organisation_id}", dependencies=[ADMIN])
    async def change(
        organisation_id: OrganisationId, body: OrganisationChange, who: CurrentIdentity
    ) -> OrganisationView:
        """Change the fields given; `domains` replaces the list (a domain left out is let go)."""
        changes = body.model_dump(exclude_unset=True)
        if "name" in changes and changes["name"] is None:
            raise _invalid("name", "an organisation keeps a name")
        if "domains" in changes and changes["domains"] is None:
            changes["domains"] = []
        if "custom_fields" in changes and changes["custom_fields"] is None:
            changes["custom_fields"] = {}
        await asyncio.to_thread(directory.change_organisation, who.tenant, organisation_id, changes, who.actor)
        return await view(who.tenant, organisation_id)

    return api


def _invalid(field: str, message: str) -> DirectoryError:
    return DirectoryError(field, message)
