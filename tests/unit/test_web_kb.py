"""The knowledge base's pages in the workspace, against an API that answers like the gateway: what a draft
made from a ticket holds, what a reply box keeps, where a refusal is shown (the browser tests drive the
real desk; these check the pages' own rules fast)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx

from tests.unit.test_web_pages import A_TICKET, ann, desk

ARTICLE = {
    "id": "a-1", "language": "en", "title": "Reset the VPN client", "body": "Quit it, then **start** it again.",
    "html": "<p>Quit it, then <strong>start</strong> it again.</p>", "category": "network", "tags": ["vpn"],
    "visibility": "public", "organisations": [], "status": "draft", "version": 2, "translations": {},
    "attachments": [], "created_at": "2026-12-04T09:30:00+00:00", "updated_at": "2026-12-04T10:00:00+00:00",
    "updated_by": "agent-ann", "published_at": None,
}  # fmt: skip
RESOLVED = A_TICKET | {
    "status": "resolved",
    "description": "My name is Kim Park, phone +7 900 000-00-00, and the VPN drops.",
    "comments": [
        {"id": "c-1", "body": "Kim Park here: still stuck.", "public": True, "author_id": "customer-kim",
         "author_kind": "requester", "channel": "portal"},
        {"id": "c-2", "body": "Quit the VPN client and start it again.", "public": True, "author_id": "agent-ann",
         "author_kind": "staff", "channel": "web"},
        {"id": "c-3", "body": "Internal: his laptop is old.", "public": False, "author_id": "agent-ann",
         "author_kind": "staff", "channel": "web"},
    ],
}  # fmt: skip
CATEGORIES = {"categories": [{"slug": "network", "names": {"en": "Network", "ru": "Сеть"}, "parent": None,
                              "position": 0}]}  # fmt: skip


def api(asked: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        path = request.url.path
        if path == f"/v1/tickets/{A_TICKET['id']}":
            return httpx.Response(200, json=RESOLVED)
        if path == "/v1/kb/categories":
            return httpx.Response(200, json=CATEGORIES)
        if path == "/v1/kb/categories/printers":
            problem = {"title": "Refused", "detail": "`network` would be its own ancestor", "field": "parent"}
            return httpx.Response(422, json=problem)
        if path == "/v1/kb/articles" and request.method == "POST":
            return httpx.Response(201, json=ARTICLE)
        if path == "/v1/kb/articles/a-1":
            return httpx.Response(200, json=ARTICLE)
        if path.endswith("/history"):
            return httpx.Response(200, json={"events": []})
        if path.endswith("/verify"):
            return httpx.Response(200, json={"intact": True, "checked": 3})
        if path == "/v1/fields":
            return httpx.Response(200, json={"fields": {}})
        return httpx.Response(404, json={"title": "Not found"})

    return httpx.MockTransport(answer)


def test_a_resolved_ticket_becomes_a_draft_of_the_agents_replies_without_the_requesters_words(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    page, sign_in = desk(tmp_path, asked, lambda r: api(asked).handle_request(r))
    sign_in.person = ann(sign_in.sessions)
    editor = page.get(f"/kb/new?ticket={A_TICKET['id']}")
    assert editor.status_code == 200, editor.text[:500]
    form = editor.text.split('class="editor kb-editor"', 1)[1].split("</form>", 1)[0]
    assert "Quit the VPN client and start it again." in form
    assert "Kim Park" not in form
    assert "+7 900" not in form
    assert "his laptop" not in form
    beside = editor.text.split('id="requester-title"', 1)[1]
    assert "Kim Park, phone +7 900 000-00-00" in beside  # shown for reference, outside the form
    token = sign_in.person.csrf_token
    saved = page.post("/kb/articles", data={"csrf_token": token, "title": RESOLVED["title"],
                                            "body": "Quit the VPN client and start it again.",
                                            "source_ticket": A_TICKET["id"], "visibility": "public"})  # fmt: skip
    assert saved.status_code == 303
    assert saved.headers["location"] == "/kb/articles/a-1"
    made = json.loads(next(r for r in asked if r.url.path == "/v1/kb/articles" and r.method == "POST").content)
    assert made["source_ticket"] == A_TICKET["id"]
    assert "Kim" not in json.dumps(made)


def test_an_article_put_into_the_reply_comes_after_what_the_agent_typed(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    page, sign_in = desk(tmp_path, asked, lambda r: api(asked).handle_request(r))
    sign_in.person = ann(sign_in.sessions)
    shown = page.post(
        f"/tickets/{A_TICKET['id']}/reply/article",
        data={"csrf_token": sign_in.person.csrf_token, "article_id": "a-1", "body": "Hello Kim,"},
    )
    assert shown.status_code == 200, shown.text[:500]
    box = shown.text.split('<textarea id="body"', 1)[1].split("</textarea>", 1)[0]
    assert box.index("Hello Kim,") < box.index("Reset the VPN client") < box.index("Quit it, then **start** it again.")
    assert "/t/acme/articles/a-1" in box


def test_a_circular_parent_is_refused_beside_the_parent_field(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    page, sign_in = desk(tmp_path, asked, lambda r: api(asked).handle_request(r))
    ann_now = ann(sign_in.sessions)
    sign_in.person = type(ann_now)(**{**ann_now.__dict__, "roles": ["supervisor"]})
    refused = page.post(
        "/kb/categories",
        data={"csrf_token": sign_in.person.csrf_token, "slug": "printers", "name_en": "Printers",
              "parent": "network", "position": "0"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert 'id="parent-error"' in refused.text
    assert "would be its own ancestor" in refused.text


def test_an_edit_sends_only_what_changed_against_the_version_shown(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    page, sign_in = desk(tmp_path, asked, lambda r: api(asked).handle_request(r))
    sign_in.person = ann(sign_in.sessions)
    fields = {"csrf_token": sign_in.person.csrf_token, "title": "Reset the VPN client", "body": ARTICLE["body"],
              "category": "network", "tags": "vpn, client", "visibility": "public", "language": "en",
              "version": "2"}  # fmt: skip
    page.post("/kb/articles/a-1", data=fields)
    patch = next(r for r in asked if r.method == "PATCH")
    assert json.loads(patch.content) == {"tags": ["vpn", "client"]}
    assert patch.headers["If-Match"] == '"2"'


def test_a_customer_is_refused_the_knowledge_base_editor(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    page, sign_in = desk(tmp_path, asked, lambda r: api(asked).handle_request(r))
    kim = ann(sign_in.sessions)
    sign_in.person = type(kim)(**{**kim.__dict__, "roles": ["customer"], "subject": "customer-kim"})
    assert page.get("/kb").status_code == 403
    assert not [r for r in asked if r.url.path.startswith("/v1/kb")]


def test_the_list_asks_the_api_with_the_filters_chosen(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if request.url.path == "/v1/kb/articles":
            return httpx.Response(200, json={"articles": [ARTICLE], "next_after": None})
        return httpx.Response(200, json=CATEGORIES)

    page, sign_in = desk(tmp_path, [], answer)
    sign_in.person = ann(sign_in.sessions)
    listed = page.get("/kb?status=draft&language=en&tag=vpn&category=network")
    assert listed.status_code == 200
    assert "Reset the VPN client" in listed.text
    query = parse_qs(next(r for r in asked if r.url.path == "/v1/kb/articles").url.query.decode())
    assert query["status"] == ["draft"]
    assert query["tag"] == ["vpn"]
    assert query["category"] == ["network"]


def test_the_knowledge_report_shows_the_deflection_rate_and_asks_for_the_channel_only(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    report = {
        "tenant": "acme", "from": "2026-12-01", "to": "2026-12-05", "channel": "portal",
        "articles": [{"article_id": "a-1", "title": "Reset the VPN client", "language": "en", "status": "published",
                      "views": 3, "helpful": 2, "unhelpful": 1, "helpful_percent": 66.67}],
        "deflection": [{"day": "2026-12-04", "channel": "portal", "solved": 2, "ticket_opened": 1,
                        "deflection_rate_percent": 66.67}],
        "by_channel": {"portal": {"solved": 2, "ticket_opened": 1, "deflection_rate_percent": 66.67}},
        "views": 3, "solved": 2, "ticket_opened": 1, "deflection_rate_percent": 66.67,
    }  # fmt: skip

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, json=report)

    page, sign_in = desk(tmp_path, [], answer)
    ann_now = ann(sign_in.sessions)
    sign_in.person = type(ann_now)(**{**ann_now.__dict__, "roles": ["supervisor"]})
    shown = page.get("/reports/knowledge?from=2026-12-01&to=2026-12-05&channel=portal")
    assert shown.status_code == 200, shown.text[:500]
    assert "66.67%" in shown.text
    assert 'href="/kb/articles/a-1"' in shown.text
    assert 'id="priority"' not in shown.text
    query = parse_qs(next(r for r in asked if r.url.path == "/v1/reports/knowledge").url.query.decode())
    assert query == {"from": ["2026-12-01"], "to": ["2026-12-05"], "channel": ["portal"]}
