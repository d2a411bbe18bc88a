"""A person's addresses on every channel, their profile, organisation and merges: the aggregates and the
directory's commands, in memory."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from services.intake.people.directory import (
    Address,
    AddressHeldError,
    Directory,
    DirectoryError,
    DomainHeldError,
    PersonGoneRefusal,
    UnknownOrganisationError,
)
from services.intake.people.finder import People
from services.intake.people.people import Person, PersonGoneError
from services.intake.privacy.personal_data import is_sealed
from tests.privacy import memory_intake

TENANT = "acme"
NORTHWIND = {"name": "Northwind", "domains": ["northwind.example"], "sla_calendar_id": "moscow",
             "sla_policy_id": "gold", "custom_fields": {"contract": "N-7"}}  # fmt: skip


@pytest.fixture
def directory() -> Directory:
    intake = memory_intake()
    return Directory(intake, People(intake, intake.personal), intake.personal)


def test_a_person_registered_by_an_admin_is_found_by_each_of_their_addresses(directory: Directory) -> None:
    addresses = [Address("email", "Kim@Northwind.example"), Address("telegram", "4711"), Address("chat", "kim-1")]
    kim = directory.register_person(TENANT, {"name": "Kim Nakamura", "language": "en"}, addresses, "admin-1")
    people = directory.people
    assert people.requester_for(TENANT, "email", "kim@northwind.example") == kim
    assert people.requester_for(TENANT, "telegram", "4711") == kim
    assert people.requester_for(TENANT, "chat", "kim-1") == kim
    profile = people.profile(TENANT, kim)
    assert profile is not None
    assert [(a["channel"], a["address"]) for a in profile.addresses] == [
        ("email", "Kim@Northwind.example"), ("telegram", "4711"), ("chat", "kim-1")
    ]  # fmt: skip
    assert people.contact(TENANT, kim, "telegram") == "4711"


def test_everything_personal_is_sealed_in_the_aggregate(directory: Directory) -> None:
    kim = directory.register_person(
        TENANT, {"name": "Kim", "notes": "prefers calls"}, [Address("email", "kim@x.example")], "admin-1"
    )
    person = directory.people.person(TENANT, kim)
    assert person is not None
    assert all(is_sealed(value) for value in (person.name, person.notes, person.addresses[0]["address"]))


def test_an_address_held_by_another_person_is_refused(directory: Directory) -> None:
    jane = directory.people.requester_for(TENANT, "email", "jane@x.example", "Jane")
    kim = directory.register_person(TENANT, {"name": "Kim"}, [], "admin-1")
    with pytest.raises(AddressHeldError) as refused:
        directory.add_address(TENANT, kim, Address("email", "JANE@x.example"), "admin-1")
    assert (refused.value.field, refused.value.status) == ("address", 409)
    assert jane in str(refused.value)


def test_a_removed_address_writes_in_as_someone_new(directory: Directory) -> None:
    kim = directory.register_person(TENANT, {}, [Address("telegram", "4711")], "admin-1")
    directory.remove_address(TENANT, kim, Address("telegram", "4711"), "admin-1")
    assert directory.people.requester_for(TENANT, "telegram", "4711") != kim
    with pytest.raises(DirectoryError) as refused:
        directory.remove_address(TENANT, kim, Address("telegram", "4711"), "admin-1")
    assert refused.value.field == "address"


def test_changing_a_person_seals_the_name_and_checks_the_organisation(directory: Directory) -> None:
    kim = directory.register_person(TENANT, {"name": "Kim"}, [], "admin-1")
    with pytest.raises(UnknownOrganisationError) as refused:
        directory.change_person(TENANT, kim, {"organisation_id": str(uuid4())}, "admin-1")
    assert (refused.value.field, refused.value.status) == ("organisation_id", 422)
    northwind = directory.register_organisation(TENANT, NORTHWIND, "admin-1")
    directory.change_person(TENANT, kim, {"name": "Kim N.", "time_zone": "Asia/Tokyo", "organisation_id": northwind},
                            "admin-1")  # fmt: skip
    profile = directory.people.profile(TENANT, kim)
    assert profile is not None
    assert (profile.name, profile.time_zone, profile.organisation_id) == ("Kim N.", "Asia/Tokyo", northwind)


def test_a_new_address_of_a_known_domain_joins_the_organisation(directory: Directory) -> None:
    northwind = directory.register_organisation(TENANT, NORTHWIND, "admin-1")
    lev = directory.people.requester_for(TENANT, "email", "lev@NorthWind.example", "Lev")
    stranger = directory.people.requester_for(TENANT, "email", "zed@elsewhere.example", "Zed")
    assert directory.people.following(TENANT, lev).organisation_id == northwind  # type: ignore[union-attr]
    assert directory.people.following(TENANT, stranger).organisation_id is None  # type: ignore[union-attr]


def test_two_organisations_never_hold_one_domain(directory: Directory) -> None:
    first = directory.register_organisation(TENANT, NORTHWIND, "admin-1")
    with pytest.raises(DomainHeldError) as refused:
        directory.register_organisation(TENANT, NORTHWIND | {"domains": ["other.example", "northwind.example"]}, "a")
    assert refused.value.field == "domains.1"
    directory.change_organisation(TENANT, first, {"domains": ["northwind.example.org"]}, "admin-1")
    second = directory.register_organisation(TENANT, NORTHWIND, "admin-1")  # let go of: free
    assert directory.organisation(TENANT, second).domains == ["northwind.example"]


def test_a_domain_named_twice_is_held_once(directory: Directory) -> None:
    twice = ["northwind.example", "nw.example", "northwind.example"]
    northwind = directory.register_organisation(TENANT, NORTHWIND | {"domains": twice}, "admin-1")
    assert directory.organisation(TENANT, northwind).domains == ["northwind.example", "nw.example"]
    directory.change_organisation(TENANT, northwind, {"domains": ["nw.example", "new.example", "new.example"]}, "a")
    assert directory.organisation(TENANT, northwind).domains == ["nw.example", "new.example"]
    lev = directory.people.requester_for(TENANT, "email", "lev@new.example", "Lev")
    assert directory.people.following(TENANT, lev).organisation_id == northwind  # type: ignore[union-attr]


def test_merging_moves_the_addresses_to_the_survivor(directory: Directory) -> None:
    people = directory.people
    by_mail = people.requester_for(TENANT, "email", "kim@x.example", "Kim")
    by_telegram = people.requester_for(TENANT, "telegram", "4711", "Kim N")
    directory.merge(TENANT, by_mail, by_telegram, "admin-1")
    assert people.requester_for(TENANT, "telegram", "4711") == by_mail
    survivor, merged = people.profile(TENANT, by_mail), people.profile(TENANT, by_telegram)
    assert survivor is not None
    assert merged is not None
    assert [a["address"] for a in survivor.addresses] == ["kim@x.example", "4711"]
    assert (survivor.merged_from, merged.merged_into) == ([by_telegram], by_mail)
    assert people.family(TENANT, by_telegram) == [by_telegram, by_mail]
    with pytest.raises(PersonGoneRefusal):
        directory.change_person(TENANT, by_telegram, {"name": "x"}, "admin-1")
    with pytest.raises(DirectoryError) as refused:
        directory.merge(TENANT, by_mail, by_mail, "admin-1")
    assert refused.value.field == "merged_id"


def test_an_erased_person_changes_no_more() -> None:
    person = Person.enter(uuid4(), TENANT, {"name": "x"}, datetime.now(UTC).isoformat())
    person.mark_erased("admin-1", "asked")
    with pytest.raises(PersonGoneError):
        person.add_address("email", "blind", "sealed")


def test_a_person_registered_before_version_2_still_loads() -> None:
    intake = memory_intake()
    person_id = uuid4()
    state = {"originator_id": person_id, "originator_version": 1, "timestamp": datetime.now(UTC),
             "originator_topic": "services.intake.people.people:Person", "tenant": TENANT, "channel": "email",
             "blind": "b", "generation": 0, "address": "a", "name": None, "language": "ru",
             "at": "2026-01-01"}  # fmt: skip
    stored = StoredEvent(
        person_id, 1, "services.intake.people.people:Person.Registered", intake.mapper.transcoder.encode(state)
    )
    registered = intake.mapper.to_domain_event(stored)
    assert isinstance(registered, Person.Registered)
    person = registered.mutate(None)
    assert isinstance(person, Person)
    assert (person.addresses, person.notes, person.organisation_id) == (
        [{"channel": "email", "blind": "b", "address": "a"}], None, None
    )  # fmt: skip
