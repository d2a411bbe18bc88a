"""A customer signed in with a token (the portal, the API, the web chat), as a person of the directory.

The token says who they are at the identity provider (`sub`), maybe their e-mail address (`email`,
OpenID Connect's claim; not when `email_verified` is false) and maybe their organisation
(`organisation`, a name the provider chose). The desk knows its customers as people with addresses,
in organisations with ids. Each request of a customer resolves them to:

- the person: the one whose id the token's subject is; else whoever holds the token's e-mail
  address; else whoever holds their chat address, which is the token's subject (the web chat knows
  a signed-in customer by it). Nobody holds it: a new person is registered, as mail registers a new
  address, in the organisation holding a new e-mail address's domain;
- their organisation's id: the person's organisation; else the organisation the token's claim
  names, by its id or by its name (when exactly one organisation of the tenant has that name).

Their tickets carry the person's id as requester and the organisation's id (the claim itself when
it names no organisation of the directory). Tickets stored before with the token's subject as
requester, or the claim's name as organisation, are not rewritten (a ticket's history never is):
the customer's scope keeps both beside the ids (tickets/access.py), so they stay theirs.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, replace
from uuid import UUID

from services.chassis.http.auth import Principal, Role
from services.chassis.storage.processing import find
from services.intake.people.finder import People
from services.intake.people.index import PeopleIndex
from services.intake.people.organisations import Organisation, domain_of

KEPT_SECONDS = 30.0  # a resolution is reused this long (an admin's change of organisation shows after it)
MOST_KEPT = 10_000
_LANGUAGE = re.compile(r"^([a-z]{2})(?:[-_].*)?$")


@dataclass(frozen=True)
class Customer:
    person: str
    organisation_id: str | None


class Customers:
    def __init__(self, people: People, index: PeopleIndex) -> None:
        self.people = people
        self.index = index
        self._kept: dict[tuple[str, ...], tuple[Customer, float]] = {}

    async def principal(self, principal: Principal) -> Principal:
        """`principal` with the person and organisation id it is, when it is a customer's."""
        if principal.is_staff or principal.service or not principal.has(Role.CUSTOMER):
            return principal
        # A resolution kept is read on the event loop; only a new one (store reads, maybe a save) goes to a thread.
        customer = self._kept_for(principal)
        if customer is None:
            customer = await asyncio.to_thread(self.customer, principal)
        return replace(principal, person=customer.person, organisation_id=customer.organisation_id)

    def customer(self, principal: Principal) -> Customer:
        """The person the customer is (registered if new) and their organisation's id."""
        if (kept := self._kept_for(principal)) is not None:
            return kept
        customer = self._resolve(principal, _email(principal.claims))
        key, now = self._key(principal), time.monotonic()
        if len(self._kept) >= MOST_KEPT:
            self._kept.clear()
        self._kept[key] = (customer, now + KEPT_SECONDS)
        return customer

    def _kept_for(self, principal: Principal) -> Customer | None:
        kept = self._kept.get(self._key(principal))
        return kept[0] if kept is not None and time.monotonic() < kept[1] else None

    @staticmethod
    def _key(principal: Principal) -> tuple[str, ...]:
        email = _email(principal.claims) or ""
        return (principal.tenant, principal.subject, email, principal.organisation or "")

    def _resolve(self, principal: Principal, email: str | None) -> Customer:
        tenant, name = principal.tenant, principal.claims.get("name")
        named = self.people.following(tenant, principal.subject)
        if named is not None and named.erased_at is None:
            person_id = str(named.id)
        else:
            channel, address = ("email", email) if email is not None else ("chat", principal.subject)
            person_id = self.people.requester_for(
                tenant, channel, address, name if isinstance(name, str) and name.strip() else None,
                _language(principal.claims.get("locale")),
            )  # fmt: skip
        person = self.people.person(tenant, person_id)
        organisation = person.organisation_id if person is not None else None
        return Customer(person_id, organisation or self._organisation(tenant, principal.organisation))

    def _organisation(self, tenant: str, claim: str | None) -> str | None:
        """The id of the organisation the token's claim names: by its id, or by its (only) name."""
        if not claim:
            return None
        try:
            found = find(self.people.app, UUID(claim), Organisation)
        except ValueError:
            found = None
        if found is not None and found.tenant == tenant:
            return str(found.id)
        return self.index.organisation_named(tenant, claim)


def _email(claims: dict[str, object]) -> str | None:
    email = claims.get("email")
    if not isinstance(email, str) or domain_of(email) is None or claims.get("email_verified") is False:
        return None
    return email.strip()


def _language(locale: object) -> str | None:
    found = _LANGUAGE.match(locale.lower()) if isinstance(locale, str) else None
    return found.group(1) if found else None
