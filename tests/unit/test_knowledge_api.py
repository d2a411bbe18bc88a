"""The knowledge service in-process on SQLite: articles' life and versions, translations, categories,
who sees what, and the bad input each answered with a problem naming the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.runtime.settings import Settings
from services.chassis.storage.projector import StoreProjector
from services.chassis.storage.store import store_env, tracking_recorder
from services.knowledge.api import create_app
from services.knowledge.application import Knowledge
from services.knowledge.files import Files
from services.knowledge.projections import ArticlesProjection
from services.knowledge.publication import publication
from services.knowledge.service import Service
from tests.tokens import authenticated, token

TENANT = "acme"


@dataclass
class KnowledgeDesk:
    knowledge: Knowledge
    view: ArticlesProjection
    projector: StoreProjector
    api: TestClient

    def as_(self, roles: tuple[str, ...] = ("agent",), organisation: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(TENANT, 'person-1', roles=roles, organisation=organisation)}"}

    def post(self, path: str, body: dict[str, Any], roles: tuple[str, ...] = ("agent",)) -> httpx.Response:
        reply: httpx.Response = self.api.post(path, json=body, headers=self.as_(roles))
        return reply

    def article(self, **fields: Any) -> dict[str, Any]:
        reply = self.post("/v1/kb/articles", {"language": "en", "title": "Printer", "body": "Restart it."} | fields)
        assert reply.status_code == 201, reply.text
        return dict(reply.json())

    def publish(self, article_id: str) -> dict[str, Any]:
        reply = self.post(f"/v1/kb/articles/{article_id}/publish", {})
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    def caught_up(self) -> KnowledgeDesk:
        self.projector.catch_up()
        return self


def knowledge_desk(tmp_path: Path) -> KnowledgeDesk:
    settings = Settings(data_dir=tmp_path)
    knowledge = Knowledge(env=store_env(settings, "knowledge"))
    view = ArticlesProjection(tracking_recorder(settings, "knowledge"))
    files = Files(tracking_recorder(settings, "knowledge"))
    app = authenticated(Runtime("knowledge", Metrics("knowledge")).app(title="knowledge", version="1"))
    create_app(app, Service(knowledge, view, files, max_file=1024))
    return KnowledgeDesk(knowledge, view, StoreProjector(knowledge, view), TestClient(app))


@pytest.fixture
def desk(tmp_path: Path) -> KnowledgeDesk:
    return knowledge_desk(tmp_path)


def test_an_article_is_drafted_revised_published_and_archived_with_every_version_kept(desk: KnowledgeDesk) -> None:
    drafted = desk.article(tags=["Printing", "printing"])
    assert (drafted["status"], drafted["version"], drafted["tags"]) == ("draft", 1, ["printing"])
    revised = desk.api.patch(f"/v1/kb/articles/{drafted['id']}", json={"body": "Turn it **off** and on."},
                             headers=desk.as_() | {"If-Match": '"1"'})  # fmt: skip
    assert revised.status_code == 200, revised.text
    assert "<strong>off</strong>" in revised.json()["html"]
    before_publishing = datetime.now(UTC)
    desk.publish(drafted["id"])
    archived = desk.post(f"/v1/kb/articles/{drafted['id']}/archive", {}).json()
    assert archived["status"] == "archived"
    history = desk.api.get(f"/v1/kb/articles/{drafted['id']}/history", headers=desk.as_()).json()["versions"]
    assert [(v["version"], v["status"], v["by"]) for v in history] == [
        (1, "draft", "person-1"), (2, "draft", "person-1"), (3, "published", "person-1"), (4, "archived", "person-1")
    ]  # fmt: skip
    assert history[1]["changed"] == ["body"]
    then = desk.api.get(f"/v1/kb/articles/{drafted['id']}", params={"as_of": before_publishing.isoformat()},
                        headers=desk.as_()).json()  # fmt: skip
    assert (then["status"], then["body"], then["version"]) == ("draft", "Turn it **off** and on.", 2)


def test_a_stale_if_match_is_refused_with_412(desk: KnowledgeDesk) -> None:
    drafted = desk.article()
    desk.api.patch(f"/v1/kb/articles/{drafted['id']}", json={"title": "Printers"}, headers=desk.as_())
    stale = desk.api.patch(f"/v1/kb/articles/{drafted['id']}", json={"title": "Old"},
                           headers=desk.as_() | {"If-Match": '"1"'})  # fmt: skip
    assert stale.status_code == 412


def test_a_translation_is_linked_both_ways(desk: KnowledgeDesk) -> None:
    english = desk.article()
    russian = desk.article(language="ru", title="Принтер", translation_of=english["id"])
    assert russian["translations"] == {"en": english["id"]}
    again = desk.api.get(f"/v1/kb/articles/{english['id']}", headers=desk.as_()).json()
    assert again["translations"] == {"ru": russian["id"]}
    twice = desk.post("/v1/kb/articles", {"language": "ru", "title": "Ещё", "translation_of": english["id"]})
    assert (twice.status_code, twice.json()["field"]) == (422, "translation_of")


@pytest.mark.parametrize(
    ("body", "field"),
    [({"title": "  "}, "title"), ({"body": "x" * 10_000_000}, "body"), ({"category": "nowhere"}, "category"),
     ({"visibility": "organisations"}, "organisations")],
)  # fmt: skip
def test_bad_article_input_is_a_problem_naming_the_field(desk: KnowledgeDesk, body: dict[str, Any], field: str) -> None:
    reply = desk.post("/v1/kb/articles", {"language": "en", "title": "Printer"} | body)
    assert reply.status_code == 422, reply.text
    problem = reply.json()
    assert reply.headers["content-type"] == "application/problem+json"
    assert field == problem.get("field") or field in [e["field"] for e in problem.get("errors", [])]


def test_a_circular_category_is_refused_naming_the_parent(desk: KnowledgeDesk) -> None:
    admin = desk.as_(("admin",))
    assert desk.api.put("/v1/kb/categories/hardware", json={"names": {"en": "Hardware"}}, headers=admin).is_success
    desk.api.put("/v1/kb/categories/printers", json={"names": {"en": "Printers"}, "parent": "hardware"}, headers=admin)
    circle = desk.api.put("/v1/kb/categories/hardware", json={"names": {"en": "Hw"}, "parent": "printers"},
                          headers=admin)  # fmt: skip
    assert (circle.status_code, circle.json()["field"]) == (422, "parent")
    listed = desk.api.get("/v1/kb/categories", headers=desk.as_()).json()["categories"]
    assert [(c["slug"], c["parent"]) for c in listed] == [("hardware", None), ("printers", "hardware")]
    agent = desk.api.put("/v1/kb/categories/x", json={"names": {"en": "X"}}, headers=desk.as_())
    assert agent.status_code == 403


def test_a_customer_sees_public_articles_and_their_organisations_only(desk: KnowledgeDesk) -> None:
    public = desk.article(visibility="public", title="Public printer")
    internal = desk.article(visibility="internal", title="Internal printer")
    theirs = desk.article(visibility="organisations", organisations=["org-1"], title="Org printer")
    others = desk.article(visibility="organisations", organisations=["org-2"], title="Other printer")
    draft = desk.article(visibility="public", title="Draft printer")
    for article in (public, internal, theirs, others):
        desk.publish(article["id"])
    customer = desk.as_(("customer",), organisation="org-1")
    seen = {a["id"]: desk.api.get(f"/v1/kb/articles/{a['id']}", headers=customer).status_code
            for a in (public, internal, theirs, others, draft)}  # fmt: skip
    assert seen == {public["id"]: 200, internal["id"]: 404, theirs["id"]: 200, others["id"]: 404, draft["id"]: 404}
    desk.caught_up()
    listed = desk.api.get("/v1/kb/articles", headers=customer).json()["articles"]
    assert {a["id"] for a in listed} == {public["id"], theirs["id"]}
    found = desk.api.get("/v1/kb/search", params={"q": "printers"}, headers=customer).json()["hits"]
    assert {h["id"] for h in found} == {public["id"], theirs["id"]}
    anonymous = desk.api.get(f"/v1/kb/public/{TENANT}/search", params={"q": "printer"}).json()["hits"]
    assert [h["id"] for h in anonymous] == [public["id"]]
    assert desk.api.get(f"/v1/kb/public/{TENANT}/articles/{theirs['id']}").status_code == 404
    assert desk.api.get(f"/v1/kb/public/{TENANT}/articles/{public['id']}").status_code == 200


def test_an_attachment_is_kept_and_a_too_large_one_is_413(desk: KnowledgeDesk) -> None:
    article = desk.article()
    kept = desk.api.post(f"/v1/kb/articles/{article['id']}/attachments", files={"file": ("a.png", b"png", "image/png")},
                         headers=desk.as_())  # fmt: skip
    assert kept.status_code == 201, kept.text
    got = desk.api.get(f"/v1/kb/articles/{article['id']}/attachments/{kept.json()['id']}", headers=desk.as_())
    assert got.content == b"png"
    large = desk.api.post(f"/v1/kb/articles/{article['id']}/attachments",
                          files={"file": ("b.bin", b"x" * 2000, "application/octet-stream")},
                          headers=desk.as_())  # fmt: skip
    assert (large.status_code, large.json()["field"]) == (413, "file")


def test_readers_feedback_views_and_deflections_are_published(desk: KnowledgeDesk) -> None:
    article = desk.article(visibility="public")
    desk.publish(article["id"])
    assert desk.post(f"/v1/kb/articles/{article['id']}/views", {"channel": "web"}).status_code == 202
    assert desk.api.post(f"/v1/kb/public/{TENANT}/articles/{article['id']}/feedback",
                         json={"helpful": True}).status_code == 202  # fmt: skip
    deflection = {"channel": "portal", "article_id": article["id"], "outcome": "solved"}
    assert desk.api.post(f"/v1/kb/public/{TENANT}/deflections", json=deflection).status_code == 202
    publish = publication(desk.knowledge)
    published = [p for n in desk.knowledge.recorder.select_notifications(1, 100) if (p := publish(n)) is not None]
    assert [envelope.type for _, envelope in published] == [
        "article.drafted", "article.published", "article.viewed", "article.rated", "self_service.ended"
    ]  # fmt: skip
    assert published[3][1].data == {"article_id": article["id"], "helpful": True, "channel": "portal"}


def test_a_rebuilt_view_equals_the_live_one(desk: KnowledgeDesk) -> None:
    admin = desk.as_(("admin",))
    desk.api.put("/v1/kb/categories/hardware", json={"names": {"en": "Hardware"}}, headers=admin)
    english = desk.article(category="hardware", visibility="public")
    desk.article(language="ru", title="Принтер не печатает", translation_of=english["id"], visibility="public")
    desk.publish(english["id"])
    live = desk.caught_up().view.everything()
    desk.view.drop()
    assert desk.caught_up().view.everything() == live
