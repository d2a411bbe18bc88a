"""An article of the knowledge base: drafted, revised, published, archived; every version kept.

Each event says who changed what, so the article's history and the article as of any instant
are read from its events. Two articles in different languages may be translations of each
other: the link is recorded on both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from services.knowledge.errors import KnowledgeError

DRAFT, PUBLISHED, ARCHIVED = "draft", "published", "archived"
# What a revision may change (the rest follows from the events).
REVISABLE = ("language", "title", "body", "category", "tags", "visibility", "organisations", "source_ticket")


def check_visibility(visibility: str, organisations: list[str]) -> None:
    if visibility == "organisations" and not organisations:
        raise KnowledgeError("an article visible to organisations names at least one", "organisations")


class Article(Aggregate):
    @event("Drafted")
    def __init__(
        self, tenant: str, language: str, title: str, body: str, category: str | None, tags: list[str],
        visibility: str, organisations: list[str], translations: dict[str, str], source_ticket: str | None, by: str,
    ) -> None:  # fmt: skip
        check_visibility(visibility, organisations)
        self.tenant = tenant
        self.language = language
        self.title = title
        self.body = body
        self.category = category
        self.tags = tags
        self.visibility = visibility
        self.organisations = organisations
        self.translations = translations
        self.source_ticket = source_ticket
        self.status = DRAFT
        self.attachments: list[dict[str, Any]] = []
        self.created_by = by
        self.updated_by = by
        self.published_at: Any = None

    def revise(self, changes: dict[str, Any], by: str) -> None:
        if self.status == ARCHIVED:
            raise KnowledgeError("an archived article is not revised; publish it again first", "status")
        if "language" in changes and changes["language"] in self.translations:
            raise KnowledgeError(f"the article already has a {changes['language']} translation", "language")
        changed = {k: v for k, v in changes.items() if k in REVISABLE and getattr(self, k) != v}
        check_visibility(changed.get("visibility", self.visibility), changed.get("organisations", self.organisations))
        if changed:
            self._revised(changes=changed, by=by)

    @event("Revised")
    def _revised(self, changes: dict[str, Any], by: str) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        self.updated_by = by

    def publish(self, by: str, at: datetime) -> None:
        if self.status != PUBLISHED:
            self._published(by=by, at=at)

    @event("Published")
    def _published(self, by: str, at: datetime) -> None:
        self.status = PUBLISHED
        self.updated_by = by
        self.published_at = at

    def archive(self, by: str) -> None:
        if self.status != ARCHIVED:
            self._archived(by=by)

    @event("Archived")
    def _archived(self, by: str) -> None:
        self.status = ARCHIVED
        self.updated_by = by

    def link_translation(self, other: Article, by: str) -> None:
        """Record `other` as this article's translation into its language."""
        if other.tenant != self.tenant:
            raise KnowledgeError("a translation belongs to the same tenant", "translation_of")
        if other.language == self.language:
            raise KnowledgeError(f"a translation is in another language than {self.language}", "language")
        if self.translations.get(other.language, str(other.id)) != str(other.id):
            raise KnowledgeError(f"the article already has a {other.language} translation", "translation_of")
        if other.language not in self.translations:
            self._translation_linked(language=other.language, article_id=str(other.id), by=by)

    @event("TranslationLinked")
    def _translation_linked(self, language: str, article_id: str, by: str) -> None:
        self.translations = self.translations | {language: article_id}
        self.updated_by = by

    def attach(self, attachment: dict[str, Any], by: str) -> None:
        self._attached(attachment=attachment, by=by)

    @event("AttachmentAdded")
    def _attached(self, attachment: dict[str, Any], by: str) -> None:
        self.attachments = [*self.attachments, attachment]
        self.updated_by = by

    def visible_to(self, staff: bool, organisation: str | None) -> bool:
        """Staff see every article; others a published one that is public or of their organisation."""
        if staff:
            return True
        if self.status != PUBLISHED:
            return False
        return self.visibility == "public" or (
            self.visibility == "organisations" and organisation is not None and organisation in self.organisations
        )


def changed_fields(event: Any) -> list[str]:
    """What an article's stored event changed, in the words of the API."""
    match type(event).__name__:
        case "Drafted":
            return ["language", "title", "body", "category", "tags", "visibility", "organisations", "translations",
                    "source_ticket", "status"]  # fmt: skip
        case "Revised":
            return sorted(event.changes)
        case "Published" | "Archived":
            return ["status"]
        case "TranslationLinked":
            return ["translations"]
        case "AttachmentAdded":
            return ["attachments"]
    return []
