"""The customer portal's pages against an API that answers like the gateway: anonymous readers use the
public knowledge base API, customers their own token; what each page asks for and shows.

(The browser tests drive the real desk; these check the pages' own rules fast.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from services.web.sessions import Session, SessionStore
from tests.unit.test_web_pages import desk

ARTICLE = {
    "id": "a-1", "language": "en", "title": "Printer does not print", "body": "Restart it.",
    "html": "<p>Restart <strong>it</strong>.</p>", "category": "printing", "tags": [], "visibility": "public",
    "organisations": [], "status": "published", "version": 2, "translations": {"ru": "a-2"}, "attachments": [],
    "created_at": "2026-12-01T10:00:00+00:00", "updated_at": "2026-12-02T10:00:00+00:00",
}  # fmt: skip
CATEGORIES = {"categories": [{"slug": "printing", "names": {"en": "Printing", "ru": "Печать"}, "parent": None,
                              "position": 1}]}  # fmt: skip
HIT = {"id": "a-1", "title": "Printer does not print", "snippet": "the <mark>printer</mark> is", "language": "en",
       "category": "printing", "score": 1.0}  # fmt: skip


def kb(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/categories"):
        return httpx.Response(200, json=CATEGORIES)
    if path.endswith("/search"):
        return httpx.Response(200, json={"hits": [HIT]})
    if path.endswith("/suggestions"):
        return httpx.Response(200, json={"articles": [HIT], "tickets": []})
    if path.endswith(("/views", "/feedback", "/deflections")):
        return httpx.Response(202)
    if path.endswith("/articles"):
        return httpx.Response(200, json={"articles": [ARTICLE], "next_after": None})
    if path.endswith("/articles/a-1"):
        return httpx.Response(200, json=ARTICLE)
    if path == "/v1/fields":
        return httpx.Response(200, json={"fields": {"seats": {"label": "Seats", "kind": "number", "required": False}}})
    if path == "/v1/tickets/t-1/attachments":
        return httpx.Response(201, json={"id": "f-1"})
    if path == "/v1/tickets" and request.method == "POST":
        return httpx.Response(201, json={"id": "t-1", "number": "ACME-1"})
    return httpx.Response(404, json={"title": "Not Found"})


def kim(sessions: SessionStore) -> Session:
    return sessions.begin(
        tenant="acme", subject="customer-kim", name="Kim", roles=["customer"], groups=[], access_token="kim-token",
        expires=datetime.now(UTC) + timedelta(hours=1), locale="en", organisation="northwind",
    )  # fmt: skip


def test_an_anonymous_reader_browses_the_knowledge_base_through_the_public_api(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    client, _ = desk(tmp_path, asked, kb)
    home = client.get("/t/acme/")
    assert home.status_code == 200
    assert "Printing" in home.text
    assert "Printer does not print" in home.text
    assert {r.url.path for r in asked} == {"/v1/kb/public/acme/categories", "/v1/kb/public/acme/articles"}
    assert all("authorization" not in r.headers for r in asked)
    assert {r.headers["x-forwarded-for"] for r in asked} == {"testclient"}, "limited as one reader, not as the desk"
    found = client.get("/t/acme/search", params={"q": "printer"})
    assert "the <mark>printer</mark> is" in found.text


def test_an_article_shows_its_safe_html_records_a_read_and_links_its_translation(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    client, _ = desk(tmp_path, asked, kb)
    page = client.get("/t/acme/articles/a-1")
    assert "<p>Restart <strong>it</strong>.</p>" in page.text
    assert 'href="/t/acme/articles/a-2?lang=ru"' in page.text
    viewed = [r for r in asked if r.url.path.endswith("/views")]
    assert [json.loads(r.content) for r in viewed] == [{"channel": "portal"}]


def test_did_this_help_is_refused_without_the_form_token_and_counted_with_it(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    client, _ = desk(tmp_path, asked, kb)
    page = client.get("/t/acme/articles/a-1")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/t/acme/articles/a-1/feedback", data={"helpful": "yes"}).status_code == 403
    sent = client.post("/t/acme/articles/a-1/feedback", data={"helpful": "yes", "csrf_token": token})
    assert sent.status_code == 303
    rated = [r for r in asked if r.url.path.endswith("/feedback")]
    assert [json.loads(r.content) for r in rated] == [{"helpful": True, "channel": "portal"}]


def test_the_portal_speaks_the_language_chosen_on_it(tmp_path: Path) -> None:
    client, _ = desk(tmp_path, [], kb)
    assert "Печать" in client.get("/t/acme/", params={"lang": "ru"}).text
    assert "Печать" in client.get("/t/acme/").text  # remembered


def test_a_request_form_needs_a_signed_in_customer(tmp_path: Path) -> None:
    client, _ = desk(tmp_path, [], kb)
    answer = client.get("/t/acme/tickets/new")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin")


def test_a_customer_lands_on_the_portal_and_their_request_opens_on_the_portal_channel(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    client, sign_in = desk(tmp_path, asked, kb)
    sign_in.person = kim(sign_in.sessions)
    assert client.get("/").headers["location"] == "/t/acme/tickets"
    form = client.get("/t/acme/tickets/new")
    assert 'id="cf-seats"' in form.text
    token = sign_in.person.csrf_token
    suggested = client.post("/t/acme/tickets/suggestions", data={"title": "printer", "csrf_token": token})
    assert "This solved it" in suggested.text
    sent = client.post(
        "/t/acme/tickets",
        data={"title": "Printer", "description": "jams", "cf-seats": "3", "suggested": "1", "csrf_token": token},
        files={"files": ("blink.txt", b"orange", "text/plain")},
    )
    assert sent.headers["location"] == "/t/acme/tickets/t-1"
    opened = next(r for r in asked if r.url.path == "/v1/tickets" and r.method == "POST")
    assert json.loads(opened.content)["channel"] == "portal"
    assert json.loads(opened.content)["custom_fields"] == {"seats": 3}
    assert json.loads(opened.content)["language"] == "en", "the portal's language is the ticket's"
    ended = [json.loads(r.content) for r in asked if r.url.path == "/v1/kb/deflections"]
    assert ended == [{"channel": "portal", "article_id": None, "outcome": "ticket_opened"}]
    [attached] = [r for r in asked if r.url.path == "/v1/tickets/t-1/attachments"]
    assert (attached.url.params["filename"], attached.content) == ("blink.txt", b"orange")
