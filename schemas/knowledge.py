"""Knowledge base events, published on `knowledge.articles`: each article's life, and what readers did.

An article's events carry what a reader of the topic needs to list it (title, language,
category, visibility, status) but not its body, which the API serves (`GET /v1/kb/articles/{id}`).
A view, a rating and an ended self-service attempt are each a stream of one event.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from schemas.envelope import EventData


class Channel(StrEnum):
    PORTAL = "portal"
    WEB = "web"
    CHAT = "chat"
    TELEGRAM = "telegram"


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    ORGANISATIONS = "organisations"


class ArticleState(EventData):
    """What every article event says of the article as it is after the event."""

    article_id: str
    version: int = Field(ge=1, description="The article's version after this event.")
    language: str
    title: str
    category: str | None
    tags: list[str]
    visibility: Visibility
    organisations: list[str]
    status: str = Field(description="draft, published or archived.")
    translations: dict[str, str] = Field(description="Language -> the id of the article's translation.")


class ArticleDraftedV1(ArticleState):
    """An article was written: a draft, not yet shown to customers."""

    event_type: ClassVar[str] = "article.drafted"
    event_version: ClassVar[int] = 1

    source_ticket: str | None = Field(description="The ticket the article was written from, if any.")


class ArticleRevisedV1(ArticleState):
    """An article changed: `changed` names its fields that did (a translation or attachment added too)."""

    event_type: ClassVar[str] = "article.revised"
    event_version: ClassVar[int] = 1

    changed: list[str]


class ArticlePublishedV1(ArticleState):
    """An article was published: its audience can read and find it."""

    event_type: ClassVar[str] = "article.published"
    event_version: ClassVar[int] = 1


class ArticleArchivedV1(ArticleState):
    """An article was archived: nobody but the staff reads or finds it any more."""

    event_type: ClassVar[str] = "article.archived"
    event_version: ClassVar[int] = 1


class ArticleViewedV1(EventData):
    """Someone read an article (the portal or the workspace recorded it)."""

    event_type: ClassVar[str] = "article.viewed"
    event_version: ClassVar[int] = 1

    article_id: str
    channel: Channel


class ArticleRatedV1(EventData):
    """A reader answered "did this help?"."""

    event_type: ClassVar[str] = "article.rated"
    event_version: ClassVar[int] = 1

    article_id: str
    helpful: bool
    channel: Channel


class SelfServiceOutcome(StrEnum):
    SOLVED = "solved"
    TICKET_OPENED = "ticket_opened"


class SelfServiceEndedV1(EventData):
    """A self-service attempt ended: solved by an article (no ticket), or by opening a ticket anyway.
    Deflection rate = solved / (solved + ticket_opened)."""

    event_type: ClassVar[str] = "self_service.ended"
    event_version: ClassVar[int] = 1

    channel: Channel
    article_id: str | None
    outcome: SelfServiceOutcome
