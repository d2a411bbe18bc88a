"""What intake publishes of a ticket's organisation's own SLA, in memory: `ticket.opened` v6 names the policy and
calendar the organisation held when the ticket opened (a later change reaches later tickets only); a ticket of
no organisation, or of one named only by a name routing rules know, is published as before (v4)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from schemas.tickets import TicketOpenedV4, TicketOpenedV6
from services.intake.people.directory import Directory
from services.intake.people.finder import People
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.form import TicketForm
from services.intake.tickets.publication import public_data
from tests.privacy import memory_intake

TENANT = "acme"
AGENT = Cause(TENANT, "agent-1", "corr", "cause")
NORTHWIND = {"name": "Northwind", "domains": [], "sla_calendar_id": "tokyo-hours", "sla_policy_id": "gold",
             "custom_fields": {}}  # fmt: skip


def a_desk() -> tuple[Intake, Directory]:
    intake = memory_intake()
    return intake, Directory(intake, People(intake, intake.personal), intake.personal)


def opened(intake: Intake, requester_id: str, **fields: Any) -> Any:
    form = TicketForm("VPN drops", "", requester_id, "api", "network", "incident", "P3", **fields)
    ticket_id = intake.open_ticket(uuid4(), form, AGENT).ticket.id
    return published(intake, ticket_id)


def published(intake: Intake, ticket_id: UUID) -> Any:
    return public_data(next(iter(intake.events.get(ticket_id))))


def test_a_ticket_of_a_person_in_an_organisation_is_published_with_its_sla_policy_and_calendar() -> None:
    intake, directory = a_desk()
    northwind = directory.register_organisation(TENANT, NORTHWIND, "admin-1")
    kim = directory.register_person(TENANT, {"name": "Kim", "organisation_id": northwind}, [], "admin-1")
    data = opened(intake, kim)
    assert isinstance(data, TicketOpenedV6)
    assert (data.organisation, data.sla_policy_id, data.sla_calendar_id) == (northwind, "gold", "tokyo-hours")
    named = opened(intake, "customer-9", organisation=northwind)  # a caller naming the organisation by its id
    assert (named.event_version, named.sla_policy_id) == (6, "gold")


def test_an_organisations_new_policy_reaches_new_tickets_and_the_published_ones_keep_theirs() -> None:
    intake, directory = a_desk()
    northwind = directory.register_organisation(TENANT, NORTHWIND, "admin-1")
    before = intake.open_ticket(uuid4(), TicketForm("a", "", "c-1", "api", "n", "incident", "P3",
                                                    organisation=northwind), AGENT).ticket.id  # fmt: skip
    directory.change_organisation(TENANT, northwind, {"sla_policy_id": "silver", "sla_calendar_id": None}, "admin-1")
    after = opened(intake, "c-1", organisation=northwind)
    assert (after.sla_policy_id, after.sla_calendar_id) == ("silver", None)
    assert published(intake, before).sla_policy_id == "gold"


def test_a_split_off_ticket_carries_the_sla_of_its_organisation() -> None:
    intake, directory = a_desk()
    northwind = directory.register_organisation(TENANT, NORTHWIND, "admin-1")
    source = intake.open_ticket(uuid4(), TicketForm("a", "", "c-1", "api", "n", "incident", "P3",
                                                    organisation=northwind), AGENT).ticket.id  # fmt: skip
    intake.comment(source, AGENT, "c-1", "Also the printer", True, "api", staff=True)
    split = intake.split(source, "c-1", "The printer", AGENT).ticket.id
    assert (published(intake, split).sla_policy_id, published(intake, split).organisation) == ("gold", northwind)


def test_a_ticket_of_no_organisation_or_of_one_named_only_by_name_is_published_as_before() -> None:
    intake, _ = a_desk()
    assert type(opened(intake, "c-1")) is TicketOpenedV4
    assert type(opened(intake, "c-1", organisation="Northwind")) is TicketOpenedV4
