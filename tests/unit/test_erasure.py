"""A requester's words sealed with their own key, erased by destroying it, exported on request.

In memory (the ticket list on SQLite); the same story runs on real PostgreSQL and Kafka in
tests/integration/test_erasure.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from schemas.envelope import Envelope
from schemas.keywords import KeywordDigests
from schemas.registry import parse_data
from services.chassis.http.problems import install_problem_handlers
from services.chassis.runtime.settings import Settings
from services.chassis.storage.projector import StoreProjector
from services.chassis.storage.store import tracking_recorder
from services.intake.attachments.blob_store import BlobNotFoundError, Owner
from services.intake.attachments.blobs import FileBlobStore
from services.intake.http import app as api
from services.intake.http import people as api_people
from services.intake.http import queries as api_queries
from services.intake.people.conversations import Conversations, ReplyRoute
from services.intake.people.directory import Directory
from services.intake.people.erasure import Erasures, UnknownPersonError
from services.intake.people.finder import People
from services.intake.people.subject_access import SubjectAccess
from services.intake.privacy.personal_data import ERASED, PersonErasedError
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.form import TicketForm
from services.intake.tickets.projections import TicketsProjection
from services.intake.tickets.publication import envelope
from services.intake.tickets.representations import history_entry, ticket_view
from services.routing.choosing import Strategy
from tests.client import headers
from tests.privacy import KEYWORD_SECRET, memory_intake, projection_of
from tests.tokens import authenticated
from tests.unit.test_routing_desk import Desk as RoutingDesk

NAME, ADDRESS = "Jolanta Kwiatkowska", "jolanta.k@example.org"
ADMIN = Cause("acme", "admin-1", "corr", "cause")


@dataclass
class Privacy:
    intake: Intake
    projection: TicketsProjection
    projector: StoreProjector
    people: People
    conversations: Conversations
    erasures: Erasures
    access: SubjectAccess
    blobs: FileBlobStore

    def open(
        self, requester_id: str = "jolanta", title: str = f"Printer of {NAME}", description: str = f"Write to {ADDRESS}"
    ) -> UUID:
        form = TicketForm(title, description, requester_id, "email", "hardware", "incident", "P3")
        return self.intake.open_ticket(uuid4(), form, ADMIN).ticket.id

    def stored_bytes(self) -> bytes:
        """Every stored event and snapshot, as the store holds them."""
        return b"".join(n.state for n in self.intake.recorder.select_notifications(1, 10_000))

    def found(self, q: str) -> list[str]:
        self.projector.catch_up()
        return [row["ticket_id"] for row in self.projection.search("acme", q, 20)]


@pytest.fixture
def desk(tmp_path: Path) -> Privacy:
    intake = memory_intake()
    projection = projection_of(intake, tracking_recorder(Settings(persistence="sqlite", data_dir=tmp_path), "intake"))
    people = People(intake, intake.personal)
    conversations = Conversations(intake, intake.personal)
    blobs = FileBlobStore(tmp_path / "blobs")
    erasures = Erasures(intake, people, projection, blobs)
    access = SubjectAccess(intake, people, conversations, projection, erasures)
    projector = StoreProjector(intake, projection, batch_size=7)
    return Privacy(intake, projection, projector, people, conversations, erasures, access, blobs)


def a_worked_ticket(desk: Privacy, requester_id: str = "jolanta") -> UUID:
    ticket_id = desk.open(requester_id)
    desk.intake.comment(ticket_id, ADMIN, "c-1", f"Dear {NAME}, try again", True, "email", staff=True)
    desk.intake.resolve(ticket_id, ADMIN, f"replaced the toner for {NAME}", "fixed")
    desk.intake.rate(ticket_id, ADMIN, 4, f"thanks, {NAME}")
    sha256, size = desk.blobs.put(Owner("acme", requester_id), b"scan of an id card")
    attachment = {"attachment_id": "a-1", "sha256": sha256, "filename": f"{NAME}.pdf",
                  "content_type": "application/pdf", "size": size, "comment_id": None}  # fmt: skip
    desk.intake.attach(ticket_id, ADMIN, attachment)
    return ticket_id


# -- sealing ---------------------------------------------------------------------------


def test_a_tickets_words_are_stored_sealed_and_read_back_opened(desk: Privacy) -> None:
    ticket_id = a_worked_ticket(desk)
    stored = desk.stored_bytes()
    for word in (NAME, ADDRESS, "Jolanta", "toner"):
        assert word.encode() not in stored, f"{word!r} is in the store in the clear"
    view = ticket_view(desk.intake.get_ticket(ticket_id, "acme"), desk.intake.personal)
    assert (view.title, view.description) == (f"Printer of {NAME}", f"Write to {ADDRESS}")
    assert view.comments[0].body == f"Dear {NAME}, try again"
    assert view.resolution == f"replaced the toner for {NAME}"
    assert view.rating == {"score": 4, "comment": f"thanks, {NAME}"}
    assert view.attachments[0].filename == f"{NAME}.pdf"


def test_the_history_reads_the_words_opened_and_the_chain_covers_the_sealed_ones(desk: Privacy) -> None:
    ticket_id = a_worked_ticket(desk)
    entries = [history_entry(e, desk.intake.personal) for e in desk.intake.history(ticket_id, "acme")]
    assert entries[0].changes["title"] == f"Printer of {NAME}"
    assert any(entry.changes.get("body") == f"Dear {NAME}, try again" for entry in entries)
    assert desk.intake.verify(ticket_id, "acme").broken is None


def test_the_ticket_list_keeps_no_word_in_the_clear_and_still_finds_whole_words(desk: Privacy, tmp_path: Path) -> None:
    ticket_id = a_worked_ticket(desk)
    other = desk.open("someone-else", title="Scanner jammed", description="")
    assert desk.found("jolanta") == [str(ticket_id)]
    assert desk.found('"dear jolanta"') == [str(ticket_id)], "a phrase of a comment"
    assert desk.found("scanner") == [str(other)]
    assert desk.found("jolanta scanner") == []
    rows, _ = desk.projection.list_tickets("acme")
    assert {row["title"] for row in rows} == {f"Printer of {NAME}", "Scanner jammed"}
    database = (tmp_path / "intake.db").read_bytes().lower()
    for word in (b"jolanta", b"kwiatkowska", b"scanner", b"example.org"):
        assert word not in database


def test_a_ticket_opened_event_carries_digests_of_its_words_that_routing_rules_match(desk: Privacy) -> None:
    ticket_id = desk.open(title="Не прошла оплата")
    stored = next(iter(desk.intake.events.get(ticket_id)))
    fields = envelope(stored, 1)  # type: ignore[arg-type]
    assert fields is not None
    published = Envelope.model_validate(fields)
    assert (published.type, published.version) == ("ticket.opened", 4)
    assert "оплата" not in json.dumps(published.data, ensure_ascii=False)
    digests = KeywordDigests(KEYWORD_SECRET)
    assert digests.digest("acme", "оплата") in parse_data(published).keyword_digests  # type: ignore[attr-defined]

    routing = RoutingDesk()
    routing.routing.define_group("acme", "first-line", 1, Strategy.LEAST_LOADED)
    routing.routing.define_group("acme", "billing", 1, Strategy.LEAST_LOADED)
    routing.routing.add_rule("acme", {"rule_id": "r1", "group_id": "billing", "words": ["оплата"]})
    v3 = {**published.data, "ticket_id": str(uuid4())}
    routing.event("ticket.opened", v3, version=3)
    assert routing.decisions(v3["ticket_id"])[0].group_id == "billing"
    routing.event("ticket.opened", {**v3, "ticket_id": str(uuid4()), "keyword_digests": []}, version=3)
    assert routing.decisions()[-1].group_id == "first-line"


# -- erasure ---------------------------------------------------------------------------


def test_an_erased_requesters_words_read_as_erased_and_everything_else_stays(desk: Privacy) -> None:
    ticket_id = a_worked_ticket(desk)
    desk.projector.catch_up()
    before = desk.intake.get_ticket(ticket_id, "acme")
    entry = desk.erasures.erase("acme", "jolanta", "admin-1", "GDPR request 17")
    assert (entry["by"], entry["reason"], entry["tickets"]) == ("admin-1", "GDPR request 17", 1)
    assert entry["completed_at"] is not None
    view = ticket_view(desk.intake.get_ticket(ticket_id, "acme"), desk.intake.personal)
    assert (view.title, view.description, view.comments[0].body, view.resolution) == (ERASED,) * 4
    assert view.rating == {"score": 4, "comment": ERASED}
    assert view.attachments[0].filename == ERASED
    assert (view.status, view.priority, view.version) == (before.status, before.priority, before.version)
    entries = [history_entry(e, desk.intake.personal) for e in desk.intake.history(ticket_id, "acme")]
    assert entries[0].changes["title"] == ERASED
    assert desk.intake.verify(ticket_id, "acme").broken is None, "the chain covers the sealed text"
    assert desk.found("jolanta") == []
    with pytest.raises(BlobNotFoundError):
        desk.blobs.open(Owner("acme", "jolanta"), view.attachments[0].sha256)


def test_nothing_new_is_recorded_for_an_erased_requester(desk: Privacy) -> None:
    desk.open()
    desk.erasures.erase("acme", "jolanta", "admin-1", "request")
    with pytest.raises(PersonErasedError):
        desk.open()


def test_an_erasure_is_recorded_once_and_asked_again_changes_nothing(desk: Privacy) -> None:
    desk.open()
    first = desk.erasures.erase("acme", "jolanta", "admin-1", "request")
    again = desk.erasures.erase("acme", "jolanta", "admin-2", "again")
    assert again == first
    assert desk.erasures.all("acme") == [first]


def test_an_erasure_interrupted_after_it_was_recorded_is_finished_on_start(desk: Privacy) -> None:
    ticket_id = desk.open()
    desk.projector.catch_up()
    desk.erasures._record("acme", "jolanta", "admin-1", "request")  # and then the process died
    assert desk.erasures.state("acme", "jolanta")["completed_at"] is None  # type: ignore[index]
    assert desk.erasures.finish_pending() == 1
    assert desk.erasures.state("acme", "jolanta")["completed_at"] is not None  # type: ignore[index]
    assert ticket_view(desk.intake.get_ticket(ticket_id, "acme"), desk.intake.personal).title == ERASED
    assert desk.erasures.finish_pending() == 0


def test_a_channel_person_is_marked_erased_with_the_erasure(desk: Privacy) -> None:
    jane = desk.people.requester_for("acme", "email", ADDRESS, NAME)
    desk.erasures.erase("acme", jane, "admin-1", "request")
    profile = desk.people.profile("acme", jane)
    assert profile is not None
    assert (profile.erased, profile.address, profile.name) == (True, ERASED, ERASED)


def test_nobody_the_tenant_knows_cannot_be_erased(desk: Privacy) -> None:
    desk.open("jolanta")
    with pytest.raises(UnknownPersonError):
        desk.erasures.erase("globex", "jolanta", "admin-1", "request")
    with pytest.raises(UnknownPersonError):
        desk.erasures.erase("acme", "nobody", "admin-1", "request")


# -- subject access --------------------------------------------------------------------


def test_an_export_holds_the_profile_every_ticket_and_where_the_person_is_answered(desk: Privacy) -> None:
    jane = desk.people.requester_for("acme", "email", ADDRESS, NAME, "pl")
    ticket_id = a_worked_ticket(desk, jane)
    desk.conversations.remember("acme", ticket_id, jane, "email", ["<m1@x>"], ReplyRoute("email", ADDRESS, "<m1@x>"))
    desk.projector.catch_up()
    export = desk.access.export("acme", jane)
    assert export is not None
    assert export["profile"] == {"requester_id": jane, "channel": "email", "address": ADDRESS, "name": NAME,
                                 "language": "pl", "erased": False,
                                 "addresses": [{"channel": "email", "address": ADDRESS}], "time_zone": None,
                                 "organisation_id": None, "notes": None, "merged_into": None,
                                 "merged_from": [], "active": True}  # fmt: skip
    (ticket,) = export["tickets"]
    assert (ticket["title"], ticket["comments"][0]["body"], ticket["rating"]["comment"]) == (
        f"Printer of {NAME}", f"Dear {NAME}, try again", f"thanks, {NAME}",
    )  # fmt: skip
    assert ticket["attachments"][0]["filename"] == f"{NAME}.pdf"
    assert ticket["reply_routes"] == [{"channel": "email", "address": ADDRESS, "reply_to": "<m1@x>"}]
    assert (export["erased"], export["erasure"]) == (False, None)
    assert desk.access.export("globex", jane) is None, "another tenant's person is not found"


def test_an_export_after_erasure_says_erased_and_holds_no_word(desk: Privacy) -> None:
    jane = desk.people.requester_for("acme", "email", ADDRESS, NAME)
    a_worked_ticket(desk, jane)
    desk.projector.catch_up()
    desk.erasures.erase("acme", jane, "admin-1", "request")
    export = desk.access.export("acme", jane)
    assert export is not None
    assert (export["erased"], export["erasure"]["reason"]) == (True, "request")
    text = json.dumps(export)
    assert "Jolanta" not in text
    assert ADDRESS not in text
    assert export["tickets"][0]["status"] == "resolved"


# -- over HTTP -------------------------------------------------------------------------


@pytest.fixture
def client(desk: Privacy) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    people = api_people.router(desk.erasures, desk.access)
    queries = api_queries.router(desk.intake, desk.projection)
    api.create_app(app, desk.intake, desk.blobs, queries, people, max_upload=1_000_000)
    return TestClient(authenticated(app), headers=headers("acme"))


def test_an_admin_erases_and_exports_over_http_and_nobody_else_may(desk: Privacy, client: TestClient) -> None:
    desk.open("jolanta")
    desk.projector.catch_up()
    agent = headers("acme", "ann", ("agent",))
    assert client.post("/v1/people/jolanta/erasure", json={"reason": "r"}, headers=agent).status_code == 403
    assert client.get("/v1/people/jolanta/export", headers=agent).status_code == 403
    assert client.get("/v1/people/jolanta/export", headers=headers("globex")).status_code == 404
    erased = client.post("/v1/people/jolanta/erasure", json={"reason": "GDPR 17"})
    assert erased.status_code == 200, erased.text
    assert client.get("/v1/audit/erasures").json()["erasures"][0]["reason"] == "GDPR 17"
    assert client.get("/v1/people/jolanta/export").json()["erased"] is True
    unknown = client.post("/v1/people/nobody/erasure", json={"reason": "r"})
    assert (unknown.status_code, unknown.headers["content-type"]) == (404, "application/problem+json")


def test_a_ticket_for_an_erased_requester_is_a_410_problem_naming_the_rule(desk: Privacy, client: TestClient) -> None:
    desk.open("jolanta")
    client.post("/v1/people/jolanta/erasure", json={"reason": "r"})
    refused = client.post("/v1/tickets", json={"title": "again", "requester_id": "jolanta"})
    assert refused.status_code == 410
    assert refused.json()["rule"] == "erasure"


def test_words_that_merely_look_sealed_are_sealed_too(desk: Privacy) -> None:
    ticket_id = desk.open(title="pd1:Zm9v:not-really-sealed Jolanta", description="pd1:broken")
    assert b"not-really-sealed" not in desk.stored_bytes()
    view = ticket_view(desk.intake.get_ticket(ticket_id, "acme"), desk.intake.personal)
    assert (view.title, view.description) == ("pd1:Zm9v:not-really-sealed Jolanta", "pd1:broken")


def test_erasing_a_person_erases_whoever_was_merged_with_them(desk: Privacy) -> None:
    directory = Directory(desk.intake, desk.people, desk.intake.personal)
    by_mail = desk.people.requester_for("acme", "email", ADDRESS, NAME)
    by_telegram = desk.people.requester_for("acme", "telegram", "4711", NAME)
    ticket_id = desk.open(by_telegram, title=f"Router of {NAME}")
    directory.merge("acme", by_mail, by_telegram, "admin-1")
    desk.erasures.erase("acme", by_telegram, "admin-1", "asked")  # the merged one: the survivor goes too
    assert {e["requester_id"] for e in desk.erasures.all("acme")} == {by_mail, by_telegram}
    survivor = desk.people.profile("acme", by_mail)
    assert survivor is not None
    assert [a["address"] for a in survivor.addresses] == [ERASED, ERASED]
    assert desk.intake.personal.unseal("acme", desk.intake.get_ticket(ticket_id, "acme").title) == ERASED
    assert desk.people.requester_for("acme", "telegram", "4711") not in (by_mail, by_telegram)
