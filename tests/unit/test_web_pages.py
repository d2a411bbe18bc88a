"""The workspace's pages, against an API that answers like the gateway: who sees what, in which language.

(The browser tests drive the real desk through the real sign-in; these check the pages' own rules fast.)
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from babel.messages.pofile import read_po
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.web import i18n
from services.web.app import mount_pages
from services.web.gateway_client import Gateway
from services.web.search import Query
from services.web.sessions import Session, SessionStore
from services.web.signin import SignIn

TICKETS = [
    {"id": "6f1c1a5e-0000-4000-8000-000000000001", "number": "ACME-2026-000001", "title": "VPN drops",
     "status": "open", "priority": "P2", "group_id": "first-line", "agent_id": "agent-ann",
     "created_at": "2026-12-04T09:30:00+00:00"},
]  # fmt: skip


class SignedInAs(SignIn):
    """The sign-in with one person already signed in (the provider's flow is the browser tests')."""

    person: Session | None = None

    def session_of(self, request: Request) -> Session | None:
        return self.person


def desk(
    tmp_path: Path, asked: list[httpx.Request], answer: Callable[[httpx.Request], httpx.Response] | None = None
) -> tuple[TestClient, SignedInAs]:
    def api(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return answer(request) if answer else httpx.Response(200, json={"tickets": TICKETS, "next_cursor": None})

    return pages_over(tmp_path, api)


def pages_over(tmp_path: Path, api: Callable[[httpx.Request], httpx.Response]) -> tuple[TestClient, SignedInAs]:
    """The web pages before a gateway that `api` answers, and their sign-in (nobody signed in yet)."""
    sessions = SessionStore(tracking_recorder(Settings(persistence="sqlite", data_dir=tmp_path), "web"))
    sign_in = SignedInAs(sessions, "http://127.0.0.1:1/idp", "web", "secret", "http://127.0.0.1:2", ["acme"])
    gateway = Gateway(
        "http://gateway", httpx.AsyncClient(base_url="http://gateway", transport=httpx.MockTransport(api))
    )
    app = FastAPI()
    mount_pages(app, sign_in, gateway, "a-session-secret-of-32-bytes-or-more", secure=False)
    return TestClient(app, follow_redirects=False), sign_in


def ann(sessions: SessionStore, locale: str | None = None) -> Session:
    return sessions.begin(
        tenant="acme", subject="agent-ann", name="Ann", roles=["agent"], groups=["first-line"],
        access_token="ann-token", expires=datetime.now(UTC) + timedelta(hours=1), locale=locale, organisation=None,
    )  # fmt: skip


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(tmp_path: Path) -> None:
    client, _ = desk(tmp_path, [])
    answer = client.get("/queues/mine")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/queues/mine"


def test_an_agent_sees_their_queue_through_the_api_with_their_own_token(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    client, sign_in = desk(tmp_path, asked)
    sign_in.person = ann(sign_in.sessions)
    page = client.get("/queues/mine")
    assert page.status_code == 200
    assert "VPN drops" in page.text
    assert "ACME-2026-000001" in page.text
    assert asked[0].headers["authorization"] == "Bearer ann-token"
    assert asked[0].url.params["queue"] == "mine"  # the API knows whose: the token's


def test_htmx_asking_for_the_rows_gets_only_the_rows(tmp_path: Path) -> None:
    client, sign_in = desk(tmp_path, [])
    sign_in.person = ann(sign_in.sessions)
    rows = client.get("/queues/all", headers={"HX-Request": "true", "HX-Target": "rows"})
    assert "VPN drops" in rows.text
    assert "<html" not in rows.text
    assert rows.headers["vary"] == "HX-Request, HX-Target"  # a browser keeps the rows apart from the page


def test_the_workspace_speaks_russian_to_a_browser_that_asks_for_it(tmp_path: Path) -> None:
    client, sign_in = desk(tmp_path, [])
    sign_in.person = ann(sign_in.sessions)
    page = client.get("/queues/mine", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert "Мои заявки" in page.text
    assert '<html lang="ru">' in page.text


def test_a_persons_own_language_wins_over_the_browsers(tmp_path: Path) -> None:
    client, sign_in = desk(tmp_path, [])
    sign_in.person = ann(sign_in.sessions, locale="en")
    page = client.get("/queues/mine", headers={"Accept-Language": "ru"})
    assert "My tickets" in page.text


def test_a_form_posted_without_its_token_is_refused(tmp_path: Path) -> None:
    client, sign_in = desk(tmp_path, [])
    sign_in.person = ann(sign_in.sessions)
    refused = client.post("/signout", data={})
    assert refused.status_code == 403
    assert sign_in.sessions.get(sign_in.person.session_id) is not None
    signed_out = client.post("/signout", data={"csrf_token": sign_in.person.csrf_token})
    assert signed_out.status_code == 200
    assert sign_in.sessions.get(sign_in.person.session_id) is None


def test_an_expired_session_opens_nothing(tmp_path: Path) -> None:
    _, sign_in = desk(tmp_path, [])
    session = sign_in.sessions.begin(
        tenant="acme", subject="agent-ann", name="Ann", roles=["agent"], groups=[], access_token="t",
        expires=datetime.now(UTC) - timedelta(seconds=1), locale=None, organisation=None,
    )  # fmt: skip
    assert sign_in.sessions.get(session.session_id) is None


def test_every_visible_string_has_its_russian_translation() -> None:
    with (i18n.FOLDER / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale="ru")
    with (i18n.FOLDER / "messages.pot").open("rb") as source:
        template = read_po(source)
    translated = {m.id for m in catalog if m.id and m.string}
    untranslated = [m.id for m in template if m.id and m.id not in translated]
    assert untranslated == []


def test_a_search_with_fields_narrows_the_list_and_the_words_are_matched() -> None:
    query = Query.parse("status:open priority:p1 agent:me vpn drops", "agent-ann")
    assert query.filters == {"status": "open", "priority": "P1", "agent_id": "agent-ann"}
    assert query.words == "vpn drops"
    assert query.admits({"status": "open", "priority": "P1", "agent_id": "agent-ann"})
    assert not query.admits({"status": "pending", "priority": "P1", "agent_id": "agent-ann"})


def test_a_search_by_fields_only_asks_the_list_and_an_unknown_field_is_named(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    client, sign_in = desk(tmp_path, asked)
    sign_in.person = ann(sign_in.sessions)
    found = client.get("/search", params={"q": "status:open group:first-line"})
    assert "VPN drops" in found.text
    assert asked[-1].url.path == "/v1/tickets"
    assert asked[-1].url.params["group_id"] == "first-line"
    unknown = client.get("/search", params={"q": "colour:red"})
    assert "Unknown field: colour" in unknown.text


def test_every_script_and_stylesheet_a_page_loads_is_served_by_the_desk() -> None:
    templates = Path(i18n.__file__).parent / "templates"
    loaded = [
        address
        for page in templates.glob("*.html")
        for address in re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', page.read_text())
    ]
    assert loaded, "the layout loads the pinned htmx and the desk's own script and stylesheet"
    assert [address for address in loaded if not address.startswith("/")] == []


def test_the_desks_own_script_parses() -> None:
    """Node (deploy/local/browser.sh installs it with the page assets) reads desk.js as a browser would:
    one broken line would silence every key, countdown and live part of every page."""
    script = Path(__file__).parents[2] / "services" / "web" / "static" / "desk.js"
    checked = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr


A_TICKET = TICKETS[0] | {
    "description": "Since this morning.", "category": "network", "type": "incident", "requester_id": "customer-kim",
    "channel": "email", "tags": [], "custom_fields": {}, "attachments": [], "version": 3,
    "comments": [{"id": "c-1", "body": "It is still stuck after a restart.", "public": True,
                  "author_id": "customer-kim", "author_kind": "requester", "channel": "portal"}],
}  # fmt: skip


def test_each_part_of_the_ticket_page_a_live_change_reloads_renders_on_its_own(tmp_path: Path) -> None:
    """An open page reloads its thread, facts and history alone (htmx, on the ticket's live stream): each
    block must render without the rest of the page around it."""

    def api(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == f"/v1/tickets/{A_TICKET['id']}":
            return httpx.Response(200, json=A_TICKET)
        if path.endswith("/history"):
            return httpx.Response(200, json={"events": []})
        if path.endswith("/verify"):
            return httpx.Response(200, json={"valid": True, "events": 3})
        if path == "/v1/fields":
            return httpx.Response(200, json={"fields": {}})
        return httpx.Response(404, json={"title": "Not found"})

    page, sign_in = desk(tmp_path, [], api)
    sign_in.person = ann(sign_in.sessions)
    for block, shown in [("thread", "It is still stuck after a restart."), ("facts", "customer-kim"), ("history", "")]:
        part = page.get(f"/tickets/{A_TICKET['id']}", headers={"HX-Request": "true", "HX-Target": block})
        assert part.status_code == 200, (block, part.text[:500])
        assert shown in part.text
        assert "<html" not in part.text
