"""What the knowledge API takes: each body's fields and their limits (a 422 names the field at fault)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from schemas.knowledge import Channel, SelfServiceOutcome, Visibility

SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
MAX_BODY = 200_000
Language = Literal["en", "ru"]
Slug = Annotated[str, Field(pattern=SLUG)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Body = Annotated[str, Field(max_length=MAX_BODY, description="Markdown (CommonMark; raw HTML is shown as text).")]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=64)]
Organisation = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class CategorySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: dict[Language, Name] = Field(min_length=1, description='Its name per language: {"en": ..., "ru": ...}.')
    parent: Slug | None = Field(None, description="The category it is under (null: at the top).")
    position: int = Field(0, ge=0, le=100_000, description="Its place among its siblings, smallest first.")


class NewArticle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language
    title: Title
    body: Body = ""
    category: Slug | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=30)
    visibility: Visibility = Visibility.INTERNAL
    organisations: list[Organisation] = Field(default_factory=list, max_length=100)
    translation_of: UUID | None = Field(None, description="The article this one translates: linked both ways.")
    source_ticket: UUID | None = Field(None, description="The ticket it was written from.")

    @field_validator("tags")
    @classmethod
    def distinct(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))


class ArticleChanges(BaseModel):
    """Any of an article's fields; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    language: Language | None = None
    title: Title | None = None
    body: Body | None = None
    category: Slug | None = None
    tags: list[Tag] | None = Field(None, max_length=30)
    visibility: Visibility | None = None
    organisations: list[Organisation] | None = Field(None, max_length=100)
    source_ticket: UUID | None = None


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    helpful: bool
    channel: Channel = Channel.PORTAL


class Reading(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel = Channel.PORTAL


class Deflection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["portal", "chat", "telegram"]
    article_id: UUID | None = None
    outcome: SelfServiceOutcome


class SuggestionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(max_length=20_000)]
    language: Language | None = None
    limit: int = Field(5, ge=1, le=20)
