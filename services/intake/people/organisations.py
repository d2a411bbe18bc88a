"""The organisations a desk's customers belong to: a name, their e-mail domains, an SLA calendar
and policy of their own (ids as the SLA service knows them) and custom fields of their own.

An organisation is not a person: nothing of it is sealed. Each of its domains is held through a
`DomainClaim` (id derived from the tenant and the domain), so two organisations never hold one
domain, and a mail from a new address of a held domain joins its organisation (finder.py).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid

CHANGEABLE = ("name", "domains", "sla_calendar_id", "sla_policy_id", "custom_fields")


def domain_of(address: str) -> str | None:
    """The domain of an e-mail address, lower case; None for anything else."""
    local, at, domain = address.strip().rpartition("@")
    return domain.lower() if at and local and domain else None


class Organisation(Aggregate):
    class Registered(Aggregate.Created):
        tenant: str
        name: str
        domains: list[str]
        sla_calendar_id: str | None
        sla_policy_id: str | None
        custom_fields: dict[str, Any]
        by: str

    @event(Registered)
    def __init__(
        self,
        tenant: str,
        name: str,
        domains: list[str],
        sla_calendar_id: str | None,
        sla_policy_id: str | None,
        custom_fields: dict[str, Any],
        by: str,
    ) -> None:
        self.tenant = tenant
        self.name = name
        self.domains = domains
        self.sla_calendar_id = sla_calendar_id
        self.sla_policy_id = sla_policy_id
        self.custom_fields = custom_fields

    @event("Changed")
    def change(self, changes: dict[str, Any], by: str) -> None:
        if unknown := sorted(set(changes) - set(CHANGEABLE)):
            raise ValueError(f"an organisation has no field {unknown[0]!r}")
        for field, value in changes.items():
            setattr(self, field, value)


class DomainClaim(Aggregate):
    """Which organisation holds a domain (None once it let it go)."""

    @staticmethod
    def create_id(tenant: str, domain: str) -> UUID:
        return stable_uuid("organisation-domain", tenant, domain.lower())

    @event("Claimed")
    def __init__(self, tenant: str, domain: str, holder: str) -> None:
        self.tenant = tenant
        self.domain = domain
        self.holder: str | None = holder

    @event("Reclaimed")
    def reclaim(self, holder: str) -> None:
        self.holder = holder

    @event("Released")
    def release(self) -> None:
        self.holder = None
