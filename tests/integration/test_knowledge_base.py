"""The knowledge base end to end, on real PostgreSQL and Kafka, through the gateway: an article's
life and versions, translations, who sees what (signed in or not), bad input, its events on
`knowledge.articles`, and a rebuild of its projections that equals the live one."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from services.chassis.storage.store import tracking_recorder
from services.knowledge.projections import ArticlesProjection
from tests.client import eventually, headers, open_ticket
from tests.harness import Desk
from tests.infra import ROOT
from tests.integration.knowledge_steps import TENANT, person, publish, published, write


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    with desk.gateway("knowledge") as client:
        yield client


def test_an_article_is_written_published_archived_and_read_as_of_any_instant(gateway: httpx.Client) -> None:
    drafted = write(gateway, tags=["printing"])
    revised = gateway.patch(f"/v1/kb/articles/{drafted['id']}", json={"body": "Switch it **off** and on."},
                            headers=person() | {"If-Match": '"1"'})  # fmt: skip
    assert revised.status_code == 200, revised.text
    assert revised.headers["ETag"] == '"2"'
    before = datetime.now(UTC)
    assert publish(gateway, drafted["id"])["status"] == "published"
    archived = gateway.post(f"/v1/kb/articles/{drafted['id']}/archive", headers=person()).json()
    assert (archived["status"], archived["version"]) == ("archived", 4)
    history = gateway.get(f"/v1/kb/articles/{drafted['id']}/history", headers=person()).json()["versions"]
    assert [(v["version"], v["status"], v["by"]) for v in history] == [
        (1, "draft", "agent-7"), (2, "draft", "agent-7"), (3, "published", "agent-7"), (4, "archived", "agent-7")
    ]  # fmt: skip
    assert history[1]["changed"] == ["body"]
    then = gateway.get(f"/v1/kb/articles/{drafted['id']}", params={"as_of": before.isoformat()},
                       headers=person()).json()  # fmt: skip
    assert (then["version"], then["status"]) == (2, "draft")
    assert then["html"] == "<p>Switch it <strong>off</strong> and on.</p>\n"


def test_a_russian_translation_is_linked_to_the_english_article_and_back(gateway: httpx.Client) -> None:
    english = write(gateway)
    russian = write(gateway, language="ru", title="Принтер не печатает", translation_of=english["id"])
    assert russian["translations"] == {"en": english["id"]}
    assert gateway.get(f"/v1/kb/articles/{english['id']}", headers=person()).json()["translations"] == {
        "ru": russian["id"]
    }


def test_a_customer_never_reads_an_internal_or_another_organisations_article(gateway: httpx.Client) -> None:
    public = publish(gateway, write(gateway, visibility="public", title="Public printer")["id"])
    internal = publish(gateway, write(gateway, visibility="internal", title="Internal printer")["id"])
    ours = publish(gateway, write(gateway, visibility="organisations", organisations=["org-1"], title="Ours")["id"])
    theirs = publish(gateway, write(gateway, visibility="organisations", organisations=["org-2"], title="Theirs")["id"])
    customer = person(("customer",), organisation="org-1", subject="customer-1")
    status = {a["title"]: gateway.get(f"/v1/kb/articles/{a['id']}", headers=customer).status_code
              for a in (public, internal, ours, theirs)}  # fmt: skip
    assert status == {"Public printer": 200, "Internal printer": 404, "Ours": 200, "Theirs": 404}
    listed = eventually(lambda: gateway.get("/v1/kb/articles", headers=customer).json()["articles"],
                        lambda rows: len(rows) >= 2, timeout=30)  # fmt: skip
    assert {a["title"] for a in listed} == {"Public printer", "Ours"}
    found = gateway.get("/v1/kb/search", params={"q": "printers"}, headers=customer).json()["hits"]
    assert {h["title"] for h in found} == {"Public printer", "Ours"}
    anonymous = gateway.get(f"/v1/kb/public/{TENANT}/articles").json()["articles"]
    assert [a["title"] for a in anonymous] == ["Public printer"]
    for article in (internal, ours, theirs):
        assert gateway.get(f"/v1/kb/public/{TENANT}/articles/{article['id']}").status_code == 404
    assert gateway.get(f"/v1/kb/public/globex/articles/{public['id']}").status_code == 404, "one tenant's only"
    hit = gateway.get(f"/v1/kb/public/{TENANT}/search", params={"q": "printer"}).json()["hits"]
    assert [h["title"] for h in hit] == ["Public printer"]
    assert "<mark>printer</mark>" in hit[0]["snippet"]
    assert gateway.post("/v1/kb/articles", json={"language": "en", "title": "x"}, headers=customer).status_code == 403


def test_anonymous_readers_are_rate_limited_per_address(desk: Desk) -> None:
    desk.env["SERVICEDESK_PUBLIC_RATE_LIMIT_PER_MINUTE"] = "5"
    with desk.gateway("knowledge") as gateway:
        answers = [gateway.get(f"/v1/kb/public/{TENANT}/categories") for _ in range(7)]
    assert [a.status_code for a in answers][:5] == [200] * 5
    assert answers[-1].status_code == 429
    assert answers[-1].headers["Retry-After"]
    assert answers[0].headers["X-RateLimit-Limit"] == "5"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [({"title": ""}, 422, "title"), ({"body": "x" * 10_000_000}, 422, "body"),
     ({"category": "nowhere"}, 422, "category"), ({"language": "de"}, 422, "language")],
)  # fmt: skip
def test_bad_input_is_a_problem_naming_the_field(gateway: httpx.Client, body: dict[str, str], status: int,
                                                 field: str) -> None:  # fmt: skip
    reply = gateway.post("/v1/kb/articles", json={"language": "en", "title": "Printer"} | body, headers=person())
    assert reply.status_code == status
    problem = reply.json()
    assert reply.headers["content-type"] == "application/problem+json"
    assert field == problem.get("field") or field in [e["field"] for e in problem.get("errors", [])]


def test_a_circular_category_is_refused_naming_its_parent(gateway: httpx.Client) -> None:
    admin = person(("admin",))
    for slug, parent in (("hardware", None), ("printers", "hardware"), ("laser", "printers")):
        reply = gateway.put(f"/v1/kb/categories/{slug}", json={"names": {"en": slug}, "parent": parent}, headers=admin)
        assert reply.status_code == 200, reply.text
    circle = gateway.put("/v1/kb/categories/hardware", json={"names": {"en": "x"}, "parent": "laser"}, headers=admin)
    assert (circle.status_code, circle.json()["field"]) == (422, "parent")
    write(gateway, category="laser")
    in_use = gateway.delete("/v1/kb/categories/laser", headers=admin)
    assert (in_use.status_code, in_use.json()["field"]) == (422, "slug")


def test_every_change_and_every_reader_is_published_once_on_the_topic(desk: Desk, gateway: httpx.Client) -> None:
    article = write(gateway, visibility="public")
    publish(gateway, article["id"])
    customer = person(("customer",), subject="customer-1")
    assert gateway.post(f"/v1/kb/articles/{article['id']}/views", json={"channel": "portal"},
                        headers=customer).status_code == 202  # fmt: skip
    assert gateway.post(f"/v1/kb/public/{TENANT}/articles/{article['id']}/feedback",
                        json={"helpful": False, "channel": "portal"}).status_code == 202  # fmt: skip
    deflection = {"channel": "chat", "article_id": article["id"], "outcome": "solved"}
    assert gateway.post("/v1/kb/deflections", json=deflection, headers=customer).status_code == 202
    envelopes = eventually(lambda: published(desk), lambda found: len(found) >= 5, timeout=60)
    assert [e.type for e in envelopes if e.subject == article["id"]] == ["article.drafted", "article.published"]
    assert sorted(e.type for e in envelopes) == sorted(
        ["article.drafted", "article.published", "article.viewed", "article.rated", "self_service.ended"]
    )
    rated = next(e for e in envelopes if e.type == "article.rated")
    assert (rated.data, rated.actor, rated.tenant) == (
        {"article_id": article["id"], "helpful": False, "channel": "portal"}, "anonymous", TENANT
    )  # fmt: skip


def test_a_subscriber_reads_the_articles_events_from_the_gateways_one_feed(gateway: httpx.Client) -> None:
    article = write(gateway, visibility="internal")
    publish(gateway, article["id"])
    admin = person(("admin",), subject="admin-1")

    def of_article() -> list[dict[str, object]]:
        page = gateway.get("/v1/events", params={"limit": 100}, headers=admin)
        assert page.status_code == 200, page.text
        return [e for e in page.json()["events"] if e["subject"] == article["id"]]

    events = eventually(of_article, lambda found: len(found) >= 2)
    assert [(e["source"], e["type"]) for e in events] == [
        ("knowledge", "article.drafted"), ("knowledge", "article.published")
    ]  # fmt: skip
    other = person(("admin",), subject="admin-2", tenant="globex")
    assert not [e for e in gateway.get("/v1/events", headers=other).json()["events"] if e["source"] == "knowledge"]


def test_a_rebuild_of_the_knowledge_projections_equals_the_live_one(desk: Desk, gateway: httpx.Client) -> None:
    admin = person(("admin",))
    gateway.put("/v1/kb/categories/hardware", json={"names": {"en": "Hardware", "ru": "Железо"}}, headers=admin)
    gateway.put("/v1/kb/categories/printers", json={"names": {"en": "Printers"}, "parent": "hardware"}, headers=admin)
    english = publish(gateway, write(gateway, category="printers", visibility="public")["id"])
    russian = write(gateway, language="ru", title="Принтер не печатает", body="Перезапустите принтер.",
                    translation_of=english["id"], category="printers", visibility="public")  # fmt: skip
    publish(gateway, russian["id"])
    gateway.patch(f"/v1/kb/articles/{english['id']}", json={"tags": ["paper"]}, headers=person())
    gateway.post(f"/v1/kb/articles/{write(gateway)['id']}/archive", headers=person())
    view = ArticlesProjection(tracking_recorder(desk.settings, "knowledge"))
    live = eventually(view.everything, lambda tables: len(tables["kb_articles"]) == 3 and all(
        a["version"] > 1 for a in tables["kb_articles"] if a["id"] == english["id"] and '"paper"' in a["tags"]
    ) and any('"paper"' in a["tags"] for a in tables["kb_articles"]), timeout=30)  # fmt: skip
    found = gateway.get("/v1/kb/search", params={"q": "принтеры"}, headers=person()).json()["hits"]
    assert [h["id"] for h in found] == [russian["id"]]
    rebuilt = subprocess.run([sys.executable, "-m", "services.knowledge.main", "rebuild"], cwd=ROOT, env=desk.env,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert view.everything() == live


def resolved_ticket(gateway: httpx.Client, requester: str, title: str) -> str:
    ticket_id = open_ticket(gateway, TENANT, title=title, requester_id=requester)
    reply = gateway.post(f"/v1/tickets/{ticket_id}/resolve", json={"resolution": "Reset the VPN profile.",
                         "reason": "fixed"}, headers=headers(TENANT))  # fmt: skip
    assert reply.status_code == 200, reply.text
    return ticket_id


def test_suggestions_bring_articles_and_the_similar_solved_tickets_the_caller_may_see(gateway: httpx.Client) -> None:
    article = publish(gateway, write(gateway, title="VPN drops every few minutes", body="Reset the VPN profile.",
                                     visibility="public")["id"])  # fmt: skip
    mine = resolved_ticket(gateway, "customer-42", "VPN drops every hour")
    theirs = resolved_ticket(gateway, "customer-9", "The VPN drops at night")
    still_open = open_ticket(gateway, TENANT, title="VPN drops again", requester_id="customer-42")
    text = {"text": "My VPN drops all the time since Monday", "limit": 5}
    staff = eventually(lambda: gateway.post("/v1/kb/suggestions", json=text, headers=person()).json(),
                       lambda found: len(found["tickets"]) >= 2, timeout=30)  # fmt: skip
    assert [a["id"] for a in staff["articles"]] == [article["id"]]
    assert {t["id"] for t in staff["tickets"]} == {mine, theirs}
    assert still_open not in {t["id"] for t in staff["tickets"]}
    customer = person(("customer",), subject="customer-42")
    own = gateway.post("/v1/kb/suggestions", json=text, headers=customer).json()
    assert ([a["id"] for a in own["articles"]], [t["id"] for t in own["tickets"]]) == ([article["id"]], [mine])
    assert own["tickets"][0]["status"] == "resolved"
    assert own["tickets"][0]["number"]
    anonymous = gateway.post(f"/v1/kb/public/{TENANT}/suggestions", json=text).json()
    assert ([a["id"] for a in anonymous["articles"]], anonymous["tickets"]) == ([article["id"]], [])
