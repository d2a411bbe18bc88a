"""The ticket list and search: what agents see of their tenant's tickets, on SQLite.

`TicketQueries` holds the scenarios; each backend runs them with its own `tickets`
fixture (here SQLite; tests/integration/test_ticket_queries_postgres.py: PostgreSQL).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import OperationalError, Tracking
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.chassis.http.problems import install_problem_handlers
from services.chassis.runtime.settings import Settings
from services.chassis.storage.projector import StoreProjector
from services.chassis.storage.store import tracking_recorder
from services.intake.attachments.blobs import FileBlobStore
from services.intake.http import app as api
from services.intake.http import queries as api_queries
from services.intake.tickets.access import Scope
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.cursors import InvalidCursorError
from services.intake.tickets.form import TicketForm
from services.intake.tickets.projections import VIEW, TicketsProjection
from services.intake.tickets.vocabulary import WaitingFor
from tests.client import headers
from tests.privacy import memory_intake, projection_of
from tests.tokens import authenticated


def cause(tenant: str = "acme") -> Cause:
    return Cause(tenant, "agent-1", f"corr-{uuid4()}", f"cause-{uuid4()}")


@dataclass
class Tickets:
    """A desk's store, its ticket list, and the worker between them."""

    intake: Intake
    projection: TicketsProjection
    projector: StoreProjector

    def open(
        self, tenant: str = "acme", *, title: str = "Printer jammed", description: str = "It beeps and stops.",
        requester_id: str = "req-1", priority: str = "P3", tags: tuple[str, ...] = (), organisation: str | None = None,
    ) -> UUID:  # fmt: skip
        form = TicketForm(title, description, requester_id, "email", "hardware", "incident", priority, list(tags),
                          organisation=organisation)  # fmt: skip
        return self.intake.open_ticket(uuid4(), form, cause(tenant)).ticket.id

    def change(self, ticket_id: UUID, command: str, *args: Any, **options: Any) -> None:
        """Run the application's command named `command` on the ticket, as an agent of acme."""
        getattr(self.intake, command)(ticket_id, cause(), *args, **options)

    def listed(self, tenant: str = "acme", **filters: Any) -> list[UUID]:
        self.projector.catch_up()
        rows, _ = self.projection.list_tickets(tenant, **filters)
        return [UUID(row["ticket_id"]) for row in rows]

    def found(self, q: str, tenant: str = "acme") -> list[UUID]:
        self.projector.catch_up()
        return [UUID(row["ticket_id"]) for row in self.projection.search(tenant, q, 20)]


class TicketQueries:
    """Scenarios every backend must pass; subclasses provide the `tickets` fixture."""

    def test_filters_on_status_and_priority_narrow_the_list(self, tickets: Tickets) -> None:
        urgent = tickets.open(priority="P1")
        started = tickets.open(priority="P1")
        tickets.open(priority="P3")
        tickets.change(started, "start_work", "on it")
        assert set(tickets.listed(priority="P1")) == {urgent, started}
        assert tickets.listed(priority="P1", status="open") == [started]
        assert tickets.listed(status="resolved") == []

    def test_the_list_takes_several_statuses_at_once_and_a_channel(self, tickets: Tickets) -> None:
        fresh = tickets.open()
        started = tickets.open()
        done = tickets.open()
        tickets.change(started, "start_work", "on it")
        tickets.change(done, "start_work", "on it")
        tickets.change(done, "resolve", "fixed", "fixed")
        assert set(tickets.listed(status=["new", "open", "pending"])) == {fresh, started}
        assert len(tickets.listed(status=[])) == 3  # no status asked: every status
        assert set(tickets.listed(channel="email")) == {fresh, started, done}
        assert tickets.listed(channel="chat") == []

    def test_filters_on_group_agent_and_requester_narrow_the_list(self, tickets: Tickets) -> None:
        mine = tickets.open(requester_id="req-9")
        theirs = tickets.open()
        tickets.change(mine, "assign", "network", "agent-7", "skills")
        tickets.change(theirs, "assign", "network", None, "queue")
        assert set(tickets.listed(group_id="network")) == {mine, theirs}
        assert tickets.listed(agent_id="agent-7") == [mine]
        assert tickets.listed(requester_id="req-9") == [mine]
        tickets.change(mine, "unassign", "back to the queue")
        assert tickets.listed(agent_id="agent-7") == []

    def test_a_tag_filter_matches_the_exact_tag_only(self, tickets: Tickets) -> None:
        vpn = tickets.open(tags=("vpn", "remote"))
        tickets.open(tags=("vpn-client",))
        retagged = tickets.open(tags=("printer",))
        tickets.change(retagged, "retag", ["vpn"], ["printer"], "misfiled")
        assert set(tickets.listed(tag="vpn")) == {vpn, retagged}
        assert tickets.listed(tag="printer") == []
        rows, _ = tickets.projection.list_tickets("acme", tag="remote")
        assert rows[0]["tags"] == ["remote", "vpn"]

    def test_a_number_finds_its_one_ticket(self, tickets: Tickets) -> None:
        tickets.open()
        wanted = tickets.open()
        number = tickets.intake.get_ticket(wanted, "acme").number
        assert tickets.listed(number=number) == [wanted]
        assert tickets.listed("globex", number=number) == []
        assert tickets.listed(number="SD-1999-000001") == []

    def test_a_creation_window_narrows_the_list(self, tickets: Tickets) -> None:
        before = tickets.open()
        tickets.listed()
        cut = _created_at(tickets, before) + timedelta(microseconds=1)
        after = tickets.open()
        assert tickets.listed(created_from=cut) == [after]
        assert tickets.listed(created_to=cut) == [before]
        assert tickets.listed(created_from=cut, created_to=cut) == []

    def test_pagination_walks_every_ticket_once_newest_first(self, tickets: Tickets) -> None:
        opened = [tickets.open(title=f"Ticket {n}") for n in range(12)]
        tickets.projector.catch_up()
        seen, cursor, pages = [], None, 0
        while True:
            rows, cursor = tickets.projection.list_tickets("acme", cursor=cursor, limit=5)
            seen += [UUID(row["ticket_id"]) for row in rows]
            pages += 1
            if cursor is None:
                break
        assert seen == list(reversed(opened))
        assert pages == 3

    def test_a_customer_lists_their_own_and_their_organisations_tickets_only(self, tickets: Tickets) -> None:
        own = tickets.open(requester_id="carol")
        colleague = tickets.open(requester_id="dave", organisation="acme-berlin")
        tickets.open(requester_id="erin", organisation="acme-paris")
        carol = Scope(requester="carol", organisation="acme-berlin")
        assert set(tickets.listed(scope=carol.sql())) == {own, colleague}
        assert tickets.listed(scope=Scope(requester="carol").sql()) == [own]

    def test_tickets_opened_at_the_same_instant_page_once_each(self, tickets: Tickets) -> None:
        tickets.open()
        notification = tickets.intake.recorder.select_notifications(1, 10)[-1]
        opened = tickets.intake.mapper.to_domain_event(notification)
        twins = [dataclasses.replace(opened, originator_id=uuid4()) for _ in range(7)]  # type: ignore[type-var]
        tickets.projection.apply([(twin, 1000 + n) for n, twin in enumerate(twins)], [Tracking(VIEW, 1006)])
        seen, cursor = [], None
        while True:
            rows, cursor = tickets.projection.list_tickets("acme", cursor=cursor, limit=3)
            seen += [row["ticket_id"] for row in rows]
            if cursor is None:
                break
        assert sorted(seen) == sorted(str(twin.originator_id) for twin in twins)

    def test_a_tenant_never_sees_another_tenants_tickets(self, tickets: Tickets) -> None:
        ours = tickets.open("acme", title="Printer on fire")
        theirs = tickets.open("globex", title="Printer on fire")
        assert tickets.listed("acme") == [ours]
        assert tickets.listed("globex", status="new") == [theirs]
        assert tickets.found("printer", "acme") == [ours]
        assert tickets.found("printer", "initech") == []

    def test_search_ranks_a_title_match_above_a_comment_match(self, tickets: Tickets) -> None:
        commented = tickets.open(title="Laptop slow", description="Takes minutes to boot.")
        tickets.change(commented, "comment", "c1", "The keyboard also sticks.", True, "email", staff=False)
        titled = tickets.open(title="Keyboard broken", description="Keys missing.")
        described = tickets.open(title="Desk phone", description="The keyboard of the phone is dead.")
        assert tickets.found("keyboard") == [titled, described, commented]
        ranks = [row["rank"] for row in tickets.projection.search("acme", "keyboard", 20)]
        assert ranks == sorted(ranks, reverse=True)

    def test_a_comments_words_become_searchable(self, tickets: Tickets) -> None:
        ticket = tickets.open(title="Email bounced")
        assert tickets.found("mailbox quota") == []
        tickets.change(ticket, "comment", "c1", "Mailbox quota exceeded.", False, "email", staff=False)
        tickets.change(ticket, "comment", "c2", "Raised the limit.", True, "email", staff=False)
        assert tickets.found("mailbox quota") == [ticket]
        assert tickets.found('"quota exceeded"') == [ticket]
        assert tickets.found("limit bounced") == [ticket]

    def test_a_customers_search_reads_the_public_text_only(self, tickets: Tickets) -> None:
        ticket = tickets.open(title="Invoice missing", description="March is not there.")
        tickets.change(ticket, "comment", "c1", "Suspect fraudulent account", False, "api", staff=False)
        tickets.change(ticket, "comment", "c2", "We are reissuing it", True, "api", staff=False)
        tickets.projector.catch_up()

        def found(q: str, public_only: bool) -> list[UUID]:
            rows = tickets.projection.search("acme", q, 20, public_only=public_only)
            return [UUID(row["ticket_id"]) for row in rows]

        assert found("fraudulent", public_only=False) == [ticket]
        assert found("invoice fraudulent", public_only=False) == [ticket], "a query across public text and notes"
        assert found("fraudulent", public_only=True) == []
        assert found("invoice fraudulent", public_only=True) == []
        assert found("invoice -fraudulent", public_only=True) == [ticket]
        assert found("reissuing", public_only=True) == [ticket]
        assert found('"march is"', public_only=True) == [ticket]

    def test_any_form_of_a_russian_word_finds_the_ticket(self, tickets: Tickets) -> None:
        printer = tickets.open(title="Принтер не печатает", description="Горит красная лампочка.")
        scanner = tickets.open(title="Сканеры зависают", description="Оба сканера в бухгалтерии.")
        assert tickets.found("принтеры") == [printer]
        assert tickets.found("печать") == [printer], "the noun finds the verb"
        assert tickets.found("принтера печать") == [printer]
        assert tickets.found("лампочки") == [printer]
        assert tickets.found("сканер") == [scanner]
        assert tickets.found('"принтеры не печатают"') == [printer], "a phrase in other forms"
        assert tickets.found("принтеры -лампочкой") == []

    def test_any_form_of_an_english_word_finds_the_ticket(self, tickets: Tickets) -> None:
        printer = tickets.open(title="Printer stopped printing", description="The queue is stuck.")
        mailbox = tickets.open(title="Mailboxes over quota", description="Quota exceeded for sales.")
        assert tickets.found("printers") == [printer]
        assert tickets.found("print") == [printer], "a shorter word finds the longer of one root"
        assert tickets.found('"stops printed"') == [printer]
        assert tickets.found("mailbox exceeding") == [mailbox]
        assert set(tickets.found("printers or quotas")) == {printer, mailbox}

    def test_customers_and_agents_alike_find_a_comment_by_any_form_of_its_words(self, tickets: Tickets) -> None:
        ticket = tickets.open(title="Принтер не печатает")
        tickets.change(ticket, "comment", "c1", "Заменили картридж", True, "email", staff=True)
        tickets.change(ticket, "comment", "c2", "Проверить драйвер", False, "email", staff=True)
        tickets.projector.catch_up()

        def found(q: str, public_only: bool) -> list[UUID]:
            return [UUID(row["ticket_id"]) for row in tickets.projection.search("acme", q, 20, public_only=public_only)]

        assert found("картриджа", public_only=True) == found("картриджи", public_only=False) == [ticket]
        assert found("драйвера", public_only=False) == [ticket]
        assert found("драйвера", public_only=True) == [], "an internal note's words, in any form, stay the staff's"
        rows, _ = tickets.projection.list_tickets("acme", words="картриджей")
        assert [UUID(row["ticket_id"]) for row in rows] == [ticket]

    def test_tickets_listed_before_stemming_are_found_by_any_form_once_the_list_is_made_again(
        self, tickets: Tickets, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        tokens = tickets.projection.tokens

        def whole_words(tenant: str, text: str) -> str:  # the documents version 4 of the list made
            return " ".join(tokens.token(tenant, word) for word in re.findall(r"\w+", text))

        monkeypatch.setattr(tokens, "document", whole_words)
        ticket = tickets.open(title="Принтеры не печатают")
        assert tickets.found("принтер") == [], "whole words only"
        monkeypatch.undo()
        with tickets.projection.view.transaction() as sql:
            sql.execute("UPDATE view_versions SET version = 4 WHERE name = :name", {"name": VIEW})

        again = TicketsProjection(tickets.projection.view.recorder, tickets.intake.personal, tokens)
        try:
            assert again.position() == 0, "its rows and tracking are gone"
            StoreProjector(tickets.intake, again, batch_size=7).catch_up()
            assert [UUID(row["ticket_id"]) for row in again.search("acme", "принтер печать", 20)] == [ticket]
        finally:
            again.view.datastore.close()

    def test_query_syntax_in_a_search_is_taken_as_plain_words(self, tickets: Tickets) -> None:
        ticket = tickets.open(title="VPN NEAR office (AND) printer")
        for q in ["vpn AND", 'printer" OR "', "NEAR(", "office*", "-", '"', "vpn:office ^printer"]:
            tickets.found(q)  # never a syntax error
        assert tickets.found("vpn office") == [ticket]

    def test_a_search_takes_web_search_syntax_words_or_words_and_minus_words(self, tickets: Tickets) -> None:
        vpn = tickets.open(title="VPN drops every hour")
        wifi = tickets.open(title="Wifi drops in the lobby")
        assert set(tickets.found("drops")) == {vpn, wifi}
        assert tickets.found("drops -wifi") == [vpn]
        assert set(tickets.found("vpn or lobby")) == {vpn, wifi}
        assert tickets.found("-wifi") == [], "nothing to subtract from"

    def test_a_merged_ticket_lists_as_closed(self, tickets: Tickets) -> None:
        duplicate = tickets.open(title="Wifi down")
        original = tickets.open(title="Wifi down on floor 3")
        tickets.intake.merge(duplicate, original, "same outage", cause())
        assert tickets.listed(status="closed") == [duplicate]
        assert tickets.listed(status="new") == [original]

    def test_the_list_follows_the_whole_lifecycle(self, tickets: Tickets) -> None:
        ticket = tickets.open()
        tickets.change(ticket, "mark_pending", WaitingFor.CUSTOMER, datetime.now(UTC), "asked")
        assert tickets.listed(status="pending") == [ticket]
        tickets.change(ticket, "resume", "answered")
        tickets.change(ticket, "change_priority", "P1", "VIP")
        tickets.change(ticket, "resolve", "fixed", "done")
        assert tickets.listed(status="resolved", priority="P1") == [ticket]
        rows, _ = tickets.projection.list_tickets("acme")
        assert rows[0]["version"] == tickets.intake.get_ticket(ticket, "acme").version

    def test_an_event_applied_twice_changes_nothing(self, tickets: Tickets) -> None:
        ticket = tickets.open(title="Scanner offline")
        tickets.change(ticket, "comment", "c1", "scanner driver", True, "email", staff=False)
        tickets.change(ticket, "retag", ["hw"], [], "triage")
        tickets.projector.catch_up()
        before = tickets.projection.list_tickets("acme"), tickets.projection.search("acme", "scanner", 5)
        notifications = tickets.intake.recorder.select_notifications(1, 100)
        again = [(tickets.intake.mapper.to_domain_event(n), n.id) for n in notifications]
        tickets.projection.apply(again, [Tracking(VIEW, notifications[-1].id + 1000)])
        assert (tickets.projection.list_tickets("acme"), tickets.projection.search("acme", "scanner", 5)) == before

    def test_a_rebuilt_list_equals_the_live_one(self, tickets: Tickets) -> None:
        first = tickets.open(tags=("a",))
        tickets.change(first, "comment", "c1", "rebuild me", True, "email", staff=False)
        tickets.intake.merge(tickets.open(), first, "dup", cause())
        tickets.projector.catch_up()
        live = tickets.projection.list_tickets("acme"), tickets.projection.search("acme", "rebuild", 5)
        tickets.projection.drop()
        assert tickets.projection.position() == 0
        tickets.projector.catch_up()
        assert (tickets.projection.list_tickets("acme"), tickets.projection.search("acme", "rebuild", 5)) == live

    def test_the_view_waits_until_it_has_reached_a_position(self, tickets: Tickets) -> None:
        position = tickets.intake.open_ticket(uuid4(), _form(), cause()).position
        assert position is not None
        assert not tickets.projection.wait(position, timeout=0.05)
        threading.Timer(0.1, tickets.projector.catch_up).start()
        assert tickets.projection.wait(position, timeout=5)
        assert tickets.projection.position() >= position

    def test_a_cursor_not_handed_out_is_refused(self, tickets: Tickets) -> None:
        for cursor in ["nonsense", "", "e30", "WyJ4Il0"]:
            with pytest.raises(InvalidCursorError):
                tickets.projection.list_tickets("acme", cursor=cursor)


@pytest.fixture
def tickets(tmp_path: Path) -> Tickets:
    """An in-memory store; the list in a SQLite file, as in the embedded default."""
    intake = memory_intake()
    projection = projection_of(intake, tracking_recorder(Settings(persistence="sqlite", data_dir=tmp_path), "intake"))
    return Tickets(intake, projection, StoreProjector(intake, projection, batch_size=7))


class TestOnSQLite(TicketQueries):
    pass


# -- the HTTP queries and the worker (SQLite) -------------------------------------


@pytest.fixture
def client(tickets: Tickets, tmp_path: Path) -> TestClient:
    """Intake's whole API as main.py assembles it, the queries router first."""
    app = FastAPI()
    install_problem_handlers(app)
    queries = api_queries.router(tickets.intake, tickets.projection)
    api.create_app(app, tickets.intake, FileBlobStore(tmp_path / "blobs"), queries, max_upload=1_000_000)
    return TestClient(authenticated(app), headers=headers("acme"))


def test_the_api_lists_filtered_tickets_page_by_page(tickets: Tickets, client: TestClient) -> None:
    opened = [tickets.open(priority="P2", tags=("vpn",)) for _ in range(3)] + [tickets.open(priority="P4")]
    tickets.projector.catch_up()
    first = client.get("/v1/tickets", params={"priority": "P2", "tag": "vpn", "limit": 2}).json()
    second = client.get("/v1/tickets", params={"priority": "P2", "cursor": first["next_cursor"], "limit": 2}).json()
    assert [t["id"] for t in first["tickets"] + second["tickets"]] == [str(i) for i in reversed(opened[:3])]
    assert second["next_cursor"] is None
    assert first["tickets"][0]["tags"] == ["vpn"]


def test_the_api_lists_the_tickets_of_any_of_several_statuses(tickets: Tickets, client: TestClient) -> None:
    fresh = tickets.open()
    started = tickets.open()
    tickets.change(started, "start_work", "on it")
    tickets.projector.catch_up()
    both = client.get("/v1/tickets", params={"status": ["new", "open"], "channel": "email"}).json()
    assert {t["id"] for t in both["tickets"]} == {str(fresh), str(started)}
    assert client.get("/v1/tickets", params={"channel": "fax"}).status_code == 422


def test_the_api_finds_a_ticket_by_its_number(tickets: Tickets, client: TestClient) -> None:
    tickets.open()
    wanted = tickets.open()
    tickets.projector.catch_up()
    number = tickets.intake.get_ticket(wanted, "acme").number
    found = client.get("/v1/tickets", params={"number": number}).json()
    assert [t["id"] for t in found["tickets"]] == [str(wanted)]
    assert client.get("/v1/tickets", params={"number": "x" * 41}).status_code == 422


def test_the_api_searches_before_taking_search_for_a_ticket_id(tickets: Tickets, client: TestClient) -> None:
    ticket = tickets.open(title="Projector flickers")
    tickets.projector.catch_up()
    answer = client.get("/v1/tickets/search", params={"q": "projector"})
    assert answer.status_code == 200
    hits = answer.json()["tickets"]
    assert [hit["id"] for hit in hits] == [str(ticket)]
    assert hits[0]["rank"] > 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status"), ({"priority": "P9"}, "priority"), ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"), ({"created_from": "yesterday"}, "created_from"), ({"tag": "Not A Tag"}, "tag"),
        ({"cursor": "garbage"}, "cursor"), ({"min_position": 0}, "min_position"),
        ({"created_from": "2026-02-01T00:00:00Z", "created_to": "2026-01-01T00:00:00Z"}, "created_to"),
    ],
)  # fmt: skip
def test_a_bad_filter_is_a_422_problem(client: TestClient, params: dict[str, Any], field: str) -> None:
    answer = client.get("/v1/tickets", params=params)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in answer.json()["detail"]


def test_a_search_without_words_is_a_422_problem(client: TestClient) -> None:
    assert client.get("/v1/tickets/search", params={"q": ""}).status_code == 422
    assert client.get("/v1/tickets/search").status_code == 422


def test_min_position_reads_your_own_write(tickets: Tickets, client: TestClient) -> None:
    opened = client.post("/v1/tickets", json={"title": "Monitor dead", "requester_id": "req-1"}).json()
    threading.Timer(0.2, tickets.projector.catch_up).start()
    listed = client.get("/v1/tickets", params={"min_position": opened["position"]}).json()
    assert [t["id"] for t in listed["tickets"]] == [opened["id"]]


def test_min_position_beyond_the_store_is_refused(client: TestClient) -> None:
    answer = client.get("/v1/tickets", params={"min_position": 10_000})
    assert answer.status_code == 422
    assert "min_position" in answer.json()["detail"]


def test_a_list_that_cannot_catch_up_in_time_answers_503(
    tickets: Tickets, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_queries, "WAIT_SECONDS", 0.05)
    position = tickets.intake.open_ticket(uuid4(), _form(), cause()).position
    answer = client.get("/v1/tickets/search", params={"q": "x", "min_position": position})
    assert answer.status_code == 503
    assert answer.json()["title"] == "Projection behind"


async def test_the_worker_follows_the_store_through_a_store_blip(
    tickets: Tickets, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply = tickets.projection.apply
    failures = iter([OperationalError("database is locked")])

    def flaky(events: Any, tracking: list[Tracking]) -> None:
        if (failure := next(failures, None)) is not None:
            raise failure
        apply(events, tracking)

    monkeypatch.setattr(tickets.projection, "apply", flaky)
    worker = StoreProjector(tickets.intake, tickets.projection, idle_seconds=0.005)
    stopping = asyncio.Event()
    running = asyncio.create_task(worker.run(stopping))
    try:
        first = tickets.intake.open_ticket(uuid4(), _form(), cause()).position
        assert first is not None
        assert await asyncio.to_thread(tickets.projection.wait, first, 5.0)
        second = tickets.intake.open_ticket(uuid4(), _form(), cause()).position
        assert second is not None
        assert await asyncio.to_thread(tickets.projection.wait, second, 5.0)
    finally:
        stopping.set()
        await asyncio.wait_for(running, 5)
    assert len(tickets.projection.list_tickets("acme")[0]) == 2


def _form() -> TicketForm:
    return TicketForm("Printer jammed", "It beeps.", "req-1", "email", "hardware", "incident", "P3")


def _created_at(tickets: Tickets, ticket_id: UUID) -> datetime:
    rows, _ = tickets.projection.list_tickets("acme")
    return next(datetime.fromisoformat(row["created_at"]) for row in rows if row["ticket_id"] == str(ticket_id))


def test_a_ticket_list_of_an_older_shape_is_made_again_from_the_store(tmp_path: Path) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    intake = memory_intake()
    first = Tickets(intake, projection := projection_of(intake, tracking_recorder(settings, "intake")),
                    StoreProjector(intake, projection, batch_size=7))  # fmt: skip
    opened = [first.open(requester_id=f"req-{n}") for n in range(3)]
    assert set(first.listed()) == set(opened)
    with projection.view.transaction() as sql:
        sql.execute("DELETE FROM view_versions")  # as a list an older release kept

    again = projection_of(intake, tracking_recorder(settings, "intake"))
    assert again.position() == 0, "its rows and tracking are gone"
    assert not projection_of(intake, tracking_recorder(settings, "intake")).view.outdated
    refilled = Tickets(intake, again, StoreProjector(intake, again, batch_size=7))
    assert set(refilled.listed()) == set(opened)
