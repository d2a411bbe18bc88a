"""An article as the API shows it, its history, and who may see it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.knowledge.domain import Article, changed_fields
from services.knowledge.markdown import rendered
from services.knowledge.search import Audience, Hit


def article_view(article: Article) -> dict[str, Any]:
    return {
        "id": str(article.id), "language": article.language, "title": article.title, "body": article.body,
        "html": rendered(article.body), "category": article.category, "tags": article.tags,
        "visibility": article.visibility, "organisations": article.organisations, "status": article.status,
        "version": article.version, "translations": article.translations, "attachments": article.attachments,
        "source_ticket": article.source_ticket, "created_at": article.created_on.isoformat(),
        "updated_at": article.modified_on.isoformat(), "updated_by": article.updated_by,
        "published_at": article.published_at.isoformat() if article.published_at else None,
    }  # fmt: skip


def history_view(events: Iterable[Any]) -> list[dict[str, Any]]:
    versions, status = [], "draft"
    for event in events:
        name = type(event).__name__
        status = {"Published": "published", "Archived": "archived"}.get(name, status)
        versions.append({"version": event.originator_version, "at": event.timestamp.isoformat(), "by": event.by,
                         "changed": changed_fields(event), "status": status})  # fmt: skip
    return versions


def hit_view(hit: Hit) -> dict[str, Any]:
    return {"id": hit.id, "title": hit.title, "snippet": hit.snippet, "language": hit.language,
            "category": hit.category, "score": hit.score}  # fmt: skip


def visible(article: Article, audience: Audience) -> bool:
    return article.visible_to(audience.staff, audience.organisation)
