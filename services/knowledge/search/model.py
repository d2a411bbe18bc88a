"""What the index holds of an article, who asks, and what they find."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Language = Literal["en", "ru"]
Visibility = Literal["public", "internal", "organisations"]


@dataclass(frozen=True)
class IndexedArticle:
    """A published article as search reads it. `text` is the body as plain text (the snippets quote
    it); `categories` are the article's own category first, then its ancestors up to the root, so a
    search within a category finds the articles of its whole subtree."""

    tenant: str
    id: str
    language: Language
    title: str
    text: str
    categories: Sequence[str] = ()
    tags: Sequence[str] = ()
    visibility: Visibility = "public"
    organisations: Sequence[str] = ()

    @property
    def category(self) -> str | None:
        return self.categories[0] if self.categories else None


@dataclass(frozen=True)
class Audience:
    """Who searches: staff see every article; anyone else the public ones and, with an organisation,
    that organisation's."""

    staff: bool
    organisation: str | None = None


@dataclass(frozen=True)
class Hit:
    """A found article: `snippet` is HTML (the text escaped, the matched words in <mark>); `score` is
    the store's rank (higher is better; comparable within one answer only)."""

    id: str
    title: str
    snippet: str
    language: str
    category: str | None
    score: float
