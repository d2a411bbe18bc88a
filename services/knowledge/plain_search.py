"""A plain stand-in for the knowledge base's search index (services/knowledge/search/ replaces it):
the same interface, each article's stemmed words (and their beginnings) in one column matched
word by word, ranked by how many of the query's words the title holds."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any

from services.chassis.storage.views import Sql, SqlView
from services.chassis.text.stems import prefixes, stem

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class IndexedArticle:
    tenant: str
    id: str
    language: str
    title: str
    text: str
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    visibility: str = "public"
    organisations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Audience:
    staff: bool
    organisation: str | None = None


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    snippet: str
    language: str
    category: str | None
    score: float


def index_schema(postgres: bool) -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS kb_plain_index (
            tenant TEXT NOT NULL, id TEXT NOT NULL, language TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
            categories TEXT NOT NULL, tags TEXT NOT NULL, visibility TEXT NOT NULL, organisations TEXT NOT NULL,
            words TEXT NOT NULL, PRIMARY KEY (tenant, id))"""
    ]


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def put(sql: Sql, article: IndexedArticle) -> None:
    remove(sql, article.tenant, article.id)
    indexed = {p for word in _words(f"{article.title} {article.text} {' '.join(article.tags)}")
               for p in prefixes(stem(word))}  # fmt: skip
    sql.execute(
        "INSERT INTO kb_plain_index VALUES (:tenant, :id, :language, :title, :text, :categories, :tags, :visibility,"
        " :organisations, :words)",
        {"tenant": article.tenant, "id": article.id, "language": article.language, "title": article.title,
         "text": article.text, "categories": json.dumps(article.categories), "tags": json.dumps(article.tags),
         "visibility": article.visibility, "organisations": json.dumps(article.organisations),
         "words": " " + " ".join(sorted(indexed)) + " "},
    )  # fmt: skip


def remove(sql: Sql, tenant: str, article_id: str) -> None:
    sql.execute("DELETE FROM kb_plain_index WHERE tenant = :tenant AND id = :id", {"tenant": tenant, "id": article_id})


def _snippet(text: str, stems: list[str]) -> str:
    words = text.split()
    start = next(
        (i for i, w in enumerate(words) if any(stem(w.lower().strip(".,;:!?")).startswith(s) for s in stems)), 0
    )
    shown = words[max(0, start - 8) : start + 22]
    marked = [
        f"<mark>{html.escape(w)}</mark>" if any(stem(w.lower().strip(".,;:!?")).startswith(s) for s in stems)
        else html.escape(w)
        for w in shown
    ]  # fmt: skip
    return " ".join(marked)


def search(view: SqlView, tenant: str, query: str, audience: Audience, language: str | None = None,
           category: str | None = None, limit: int = 10) -> list[Hit]:  # fmt: skip
    stems = [stem(w) for w in _words(query)][:12]
    if not stems:
        return []
    where = ["tenant = :tenant"] + [f"words LIKE :w{i}" for i in range(len(stems))]
    params: dict[str, Any] = {"tenant": tenant} | {f"w{i}": f"% {s} %" for i, s in enumerate(stems)}
    if language is not None:
        where.append("language = :language")
        params["language"] = language
    rows = view.query(f"SELECT * FROM kb_plain_index WHERE {' AND '.join(where)}", params)
    hits = []
    for row in rows:
        categories, organisations = json.loads(row["categories"]), json.loads(row["organisations"])
        if category is not None and category not in categories:
            continue
        if not audience.staff and not (
            row["visibility"] == "public"
            or (row["visibility"] == "organisations" and audience.organisation in organisations)
        ):
            continue
        title = _words(row["title"])
        score = 1.0 + sum(1 for s in stems if any(stem(w).startswith(s) for w in title))
        hits.append(Hit(row["id"], row["title"], _snippet(row["text"], stems), row["language"],
                        categories[0] if categories else None, score))  # fmt: skip
    return sorted(hits, key=lambda h: (-h.score, h.title))[:limit]


def suggest(view: SqlView, tenant: str, text: str, audience: Audience, language: str | None = None,
            limit: int = 5) -> list[Hit]:  # fmt: skip
    """The articles sharing most of the text's words: each word searched alone, scores added."""
    found: dict[str, Hit] = {}
    for word in dict.fromkeys(w for w in _words(text) if len(w) > 3):
        for hit in search(view, tenant, word, audience, language, limit=50):
            before = found.get(hit.id)
            found[hit.id] = hit if before is None else Hit(**(hit.__dict__ | {"score": before.score + hit.score}))
    return sorted(found.values(), key=lambda h: (-h.score, h.title))[:limit]
