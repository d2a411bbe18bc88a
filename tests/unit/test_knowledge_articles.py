"""The knowledge base's aggregates without I/O: an article's life, its translations, who sees it,
and the category tree that refuses a circle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.knowledge.categories import Categories
from services.knowledge.domain import Article, changed_fields
from services.knowledge.errors import KnowledgeError, NotFoundError


def article(**fields: Any) -> Article:
    spec: dict[str, Any] = {
        "tenant": "acme", "language": "en", "title": "Printer", "body": "Restart it.", "category": None, "tags": [],
        "visibility": "public", "organisations": [], "translations": {}, "source_ticket": None, "by": "agent-7",
    }  # fmt: skip
    return Article(**(spec | fields))


def test_a_revision_records_only_the_fields_that_changed() -> None:
    printer = article()
    printer.revise({"title": "Printer", "body": "Switch it off and on."}, "agent-8")
    event = printer.collect_events()[-1]
    assert (changed_fields(event), printer.updated_by, printer.version) == (["body"], "agent-8", 2)
    printer.revise({"body": "Switch it off and on."}, "agent-8")
    assert printer.version == 2, "nothing changed: no new version"


def test_an_archived_article_is_not_revised_until_published_again() -> None:
    printer = article()
    printer.publish("agent-7", datetime.now(UTC))
    printer.archive("agent-7")
    with pytest.raises(KnowledgeError) as refused:
        printer.revise({"title": "New"}, "agent-7")
    assert refused.value.field == "status"
    printer.publish("agent-7", datetime.now(UTC))
    printer.revise({"title": "New"}, "agent-7")
    assert (printer.status, printer.title) == ("published", "New")


def test_a_translation_is_in_another_language_and_only_one_per_language() -> None:
    english, russian, german_ru = article(), article(language="ru"), article(language="ru")
    english.link_translation(russian, "agent-7")
    assert english.translations == {"ru": str(russian.id)}
    with pytest.raises(KnowledgeError) as twice:
        english.link_translation(german_ru, "agent-7")
    assert twice.value.field == "translation_of"
    with pytest.raises(KnowledgeError) as same:
        english.link_translation(article(), "agent-7")
    assert same.value.field == "language"


def test_a_customer_sees_a_published_public_article_or_one_of_their_organisation() -> None:
    public, theirs, internal = (
        article(),
        article(visibility="organisations", organisations=["org-1"]),
        article(visibility="internal"),
    )
    assert not public.visible_to(False, None), "a draft is the staff's"
    for each in (public, theirs, internal):
        each.publish("agent-7", datetime.now(UTC))
    assert [a.visible_to(False, "org-1") for a in (public, theirs, internal)] == [True, True, False]
    assert [a.visible_to(False, "org-2") for a in (public, theirs, internal)] == [True, False, False]
    assert all(a.visible_to(True, None) for a in (public, theirs, internal))


def test_an_article_for_organisations_names_one() -> None:
    with pytest.raises(KnowledgeError) as refused:
        article(visibility="organisations")
    assert refused.value.field == "organisations"


def test_a_category_under_itself_or_its_descendants_is_refused() -> None:
    tree = Categories("acme")
    tree.define("hardware", {"en": "Hardware"}, None, 0, "admin-1")
    tree.define("printers", {"en": "Printers"}, "hardware", 0, "admin-1")
    tree.define("laser", {"en": "Laser"}, "printers", 0, "admin-1")
    for slug, parent in (("hardware", "laser"), ("hardware", "hardware"), ("printers", "laser")):
        with pytest.raises(KnowledgeError) as circle:
            tree.define(slug, {"en": slug}, parent, 0, "admin-1")
        assert circle.value.field == "parent"
    assert tree.ancestors("laser") == ["printers", "hardware"]
    with pytest.raises(KnowledgeError) as parent_of_others:
        tree.remove("printers", "admin-1")
    assert parent_of_others.value.field == "slug"
    with pytest.raises(NotFoundError):
        tree.remove("nowhere", "admin-1")
    tree.remove("laser", "admin-1")
    assert [c["slug"] for c in tree.listed()] == ["hardware", "printers"]
