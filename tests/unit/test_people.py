"""The people behind channel addresses, and their personal data sealed with keys of their own."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import uuid4

import pytest

from schemas.keywords import KeywordDigests
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env, tracking_recorder
from services.intake.channels import mail_threads
from services.intake.people.conversations import Conversations, ReplyRoute
from services.intake.people.finder import People
from services.intake.privacy.personal_data import (
    ERASED,
    MemoryKeyTable,
    PersonalData,
    PersonErasedError,
    SqlKeyTable,
    StoredKey,
)
from services.intake.tickets.application import Intake
from tests.privacy import AUDIT_SECRET, KEYWORD_SECRET, SECRET, memory_intake


def in_memory_people() -> People:
    intake = memory_intake()
    return People(intake, intake.personal)


def sqlite_people(tmp_path: Path) -> tuple[People, Intake]:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    keys = SqlKeyTable(tracking_recorder(settings, Intake.name))
    personal = PersonalData(keys, SECRET)
    digests = KeywordDigests(KEYWORD_SECRET)
    intake = Intake(env=store_env(settings, Intake.name), personal=personal, digests=digests, audit_secret=AUDIT_SECRET)
    return People(intake, personal), intake


def test_a_second_mail_from_the_same_address_finds_the_same_requester() -> None:
    people = in_memory_people()
    first = people.requester_for("acme", "email", "Jane.Doe@Example.com", "Jane Doe", "en")
    again = people.requester_for("acme", "email", "jane.doe@example.com")
    assert first == again
    profile = people.profile("acme", first)
    assert profile is not None
    assert (profile.address, profile.name, profile.language) == ("Jane.Doe@Example.com", "Jane Doe", "en")


def test_the_same_address_is_another_person_in_another_tenant() -> None:
    people = in_memory_people()
    assert people.requester_for("acme", "email", "jane@example.com") != people.requester_for(
        "globex", "email", "jane@example.com"
    )
    assert people.profile("globex", people.requester_for("acme", "email", "jane@example.com")) is None


def test_the_store_holds_no_address_or_name_in_the_clear(tmp_path: Path) -> None:
    people, _ = sqlite_people(tmp_path)
    people.requester_for("acme", "email", "jane.doe@example.com", "Jane Doe")
    database = (tmp_path / "intake.db").read_bytes()
    assert b"jane.doe" not in database.lower()
    assert b"Jane Doe" not in database


def test_an_erased_person_reads_as_erased_and_their_address_becomes_someone_new(tmp_path: Path) -> None:
    people, intake = sqlite_people(tmp_path)
    jane = people.requester_for("acme", "email", "jane@example.com", "Jane")
    sealed = people.personal.seal("acme", jane, "my card number is 4111")
    person = people.person("acme", jane)
    assert person is not None
    person.mark_erased(by="admin-1", reason="erasure request")
    intake.save(person)
    assert people.personal.destroy_key("acme", jane)
    assert people.personal.unseal("acme", sealed) == ERASED
    profile = people.profile("acme", jane)
    assert profile is not None
    assert (profile.address, profile.name, profile.erased) == (ERASED, ERASED, True)
    with pytest.raises(PersonErasedError):
        people.personal.seal("acme", jane, "anything new")
    assert people.requester_for("acme", "email", "jane@example.com") != jane


def test_new_people_writing_at_once_are_registered_once(tmp_path: Path) -> None:
    people, _ = sqlite_people(tmp_path)
    with ThreadPoolExecutor(8) as pool:
        found = set(pool.map(lambda _: people.requester_for("acme", "email", "rush@example.com"), range(16)))
    assert len(found) == 1


def test_a_sealed_value_does_not_open_for_another_tenant() -> None:
    personal = PersonalData(MemoryKeyTable(), SECRET)
    sealed = personal.seal("acme", "customer-1", "hello")
    assert personal.unseal("acme", sealed) == "hello"
    assert personal.unseal("globex", sealed) == ERASED
    assert personal.unseal("acme", "plain text") == "plain text"


def test_a_reply_in_a_thread_finds_its_ticket_and_the_desk_knows_where_to_answer() -> None:
    people = in_memory_people()
    conversations = Conversations(people.app, people.personal)
    jane = people.requester_for("acme", "email", "jane@example.com")
    ticket_id = uuid4()
    route = ReplyRoute("email", "jane@example.com", "<first@mail.example.com>")
    conversations.remember("acme", ticket_id, jane, "email", ["<first@mail.example.com>"], route)
    assert conversations.ticket_of("acme", "email", "<first@mail.example.com>") == ticket_id
    assert conversations.ticket_of("globex", "email", "<first@mail.example.com>") is None
    assert conversations.ticket_of("acme", "email", "<other@mail.example.com>") is None
    assert conversations.routes("acme", ticket_id) == [route]


def test_a_message_delivered_twice_stays_with_the_first_ticket() -> None:
    people = in_memory_people()
    conversations = Conversations(people.app, people.personal)
    first, second = uuid4(), uuid4()
    assert conversations.remember("acme", first, "c-1", "telegram", ["42:7"]) == first
    assert conversations.remember("acme", second, "c-1", "telegram", ["42:7"]) == first


def test_an_erased_requester_has_nowhere_to_be_answered() -> None:
    people = in_memory_people()
    conversations = Conversations(people.app, people.personal)
    ticket_id = uuid4()
    conversations.remember("acme", ticket_id, "c-1", "telegram", ["42:7"], ReplyRoute("telegram", "42", "7"))
    people.personal.destroy_key("acme", "c-1")
    assert conversations.routes("acme", ticket_id) == []


def test_a_reply_names_its_ticket_by_our_message_id_or_by_the_number_in_its_subject() -> None:
    ticket_id = uuid4()
    ours = mail_threads.message_id(ticket_id, "17", "desk.example")
    assert mail_threads.tickets_in(f"<abc@gmail.com> {ours}", "desk.example") == [ticket_id]
    assert mail_threads.tickets_in(ours, "other.example") == []
    assert mail_threads.is_ours(ours, "DESK.example")
    subject = mail_threads.tagged("Re: VPN drops", "SD-2026-000123")
    assert subject == "[SD-2026-000123] Re: VPN drops"
    assert mail_threads.tagged(subject, "SD-2026-000123") == subject
    assert mail_threads.number_in("AW: Re: " + subject) == "SD-2026-000123"
    assert mail_threads.number_in("no tag here") is None


def test_a_page_of_sealed_titles_is_opened_with_one_read_of_the_key_table(tmp_path: Path) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    sealer = PersonalData(SqlKeyTable(tracking_recorder(settings, Intake.name)), SECRET)
    titles = [sealer.seal("acme", f"customer-{n}", f"title {n}") for n in range(30)]
    sealer.destroy_key("acme", "customer-7")
    reads: list[str] = []

    class CountedKeys(SqlKeyTable):
        def get(self, tenant: str, person: str) -> StoredKey | None:
            reads.append(person)
            return super().get(tenant, person)

    reader = PersonalData(CountedKeys(tracking_recorder(settings, Intake.name)), SECRET)
    reader.fetch_keys("acme", [*titles, "a plain title"])
    opened = [reader.unseal("acme", title) for title in titles]
    assert reads == []
    assert opened[7] == ERASED
    assert opened[:7] + opened[8:] == [f"title {n}" for n in range(30) if n != 7]
