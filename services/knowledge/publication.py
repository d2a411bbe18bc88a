"""Which of the knowledge store's events are public, on `knowledge.articles`: one envelope per stored
event at most (a category's events stay private: the API serves the tree)."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from schemas import knowledge as contract
from schemas import topics
from schemas.envelope import EnvelopeFields, EventData
from services.chassis.messaging.relay import Publication, PublicFields, published_on, validated
from services.chassis.storage.ids import stable_id
from services.knowledge.domain import changed_fields

SOURCE = "knowledge"


def article_data(event: Any, state: dict[str, Any]) -> EventData | None:
    """An article's stored event as published; `state` is the article after it (as the event and the
    ones before it made it)."""
    common = state | {"article_id": str(event.originator_id), "version": event.originator_version}
    match type(event).__name__:
        case "Drafted":
            return contract.ArticleDraftedV1(**common, source_ticket=event.source_ticket)
        case "Revised" | "TranslationLinked" | "AttachmentAdded":
            return contract.ArticleRevisedV1(**common, changed=changed_fields(event))
        case "Published":
            return contract.ArticlePublishedV1(**common)
        case "Archived":
            return contract.ArticleArchivedV1(**common)
    return None


def signal_data(event: Any) -> EventData | None:
    match type(event).__qualname__:
        case "View.Viewed":
            return contract.ArticleViewedV1(article_id=event.article_id, channel=event.channel)
        case "Rating.Rated":
            return contract.ArticleRatedV1(article_id=event.article_id, helpful=event.helpful, channel=event.channel)
        case "SelfService.Ended":
            return contract.SelfServiceEndedV1(
                channel=event.channel, article_id=event.article_id, outcome=event.outcome
            )
    return None


STATE = ("language", "title", "category", "tags", "visibility", "organisations", "status", "translations")


def article_state(app: Application[Any], event: Any) -> tuple[str, dict[str, Any]]:
    """The article's tenant, and the article as it was right after `event` (its events up to then)."""
    article: Any = app.repository.get(event.originator_id, version=event.originator_version)
    return article.tenant, {name: getattr(article, name) for name in STATE}


def envelopes(app: Application[Any]) -> Any:
    def envelope(event: Any, position: int) -> EnvelopeFields | None:
        kind = type(event).__qualname__
        if kind.startswith("Article."):
            tenant, state = article_state(app, event)
            data = article_data(event, state)
        else:
            tenant, data = getattr(event, "tenant", ""), signal_data(event)
        if data is None:
            return None
        key = f"{event.originator_id}/{event.originator_version}"
        return {
            "id": stable_id(SOURCE, key), "type": data.event_type, "version": data.event_version,
            "source": SOURCE, "subject": str(event.originator_id), "tenant": tenant,
            "actor": event.by, "occurred_at": event.timestamp, "sequence": event.originator_version,
            "position": position, "correlation_id": f"{SOURCE}:{event.originator_id}", "causation_id": key,
            "data": data.model_dump(mode="json"),
        }  # fmt: skip

    return envelope


def public_fields(app: Application) -> PublicFields:  # type: ignore[type-arg]
    return published_on(topics.KNOWLEDGE_ARTICLES, Aggregate.Event, envelopes(app), app)


def publication(app: Application) -> Publication:  # type: ignore[type-arg]
    return validated(public_fields(app))
