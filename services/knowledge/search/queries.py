"""Search (every word of a query) and suggestions (the telling words of a long text, any of them),
ranked by the store: ts_rank_cd on PostgreSQL, bm25 on SQLite; the caller's audience decides
which articles can be found at all."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from services.chassis.storage.views import Sql, SqlView
from services.knowledge.search.model import Audience, Hit
from services.knowledge.search.snippets import snippet
from services.knowledge.search.terms import (
    MAX_QUERY_STEMS,
    distinct_stems,
    fts5_query,
    is_prefix,
    tsquery,
)

SUGGESTION_STEMS = 8  # the rarest of a text's stems that a suggestion looks for
# ...if they weigh (idf) at least this share of the rarest's: PostgreSQL's ts_rank_cd knows no idf, and
# a word found in many articles ("problem", "please") would rank them above the one the text is about.
LEAST_WEIGHT = 0.4
MAX_TEXT_STEMS = 200  # of a long text, the first
# Weights of D, C (tags), B (text), A (title); normalised by the document's length (its log).
_RANK = "ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', a.document, q, 1)"
_BM25 = "bm25(kb_search_fts, 5.0, 2.0, 1.0)"  # title, text, tags: as the PostgreSQL weights
# Ranked among the first CANDIDATES articles found: ranking costs a few microseconds an article, and
# a word in many articles would find thousands (the telling words of a suggestion seldom do).
CANDIDATES = 1000
_POSTGRES = (
    "WITH found AS MATERIALIZED (SELECT a.tenant, a.article_id, a.document FROM kb_search a"
    " WHERE a.tenant = :tenant AND a.document @@ to_tsquery('simple', :q){filters} LIMIT :candidates),"
    " top AS (SELECT a.tenant, a.article_id, " + _RANK + " AS score"
    " FROM found a, to_tsquery('simple', :q) q ORDER BY score DESC LIMIT :limit)"
    " SELECT a.article_id, t.title, t.text, a.language, a.category, top.score FROM top"
    " JOIN kb_search a ON a.tenant = top.tenant AND a.article_id = top.article_id"
    " JOIN kb_search_texts t ON t.tenant = a.tenant AND t.article_id = a.article_id"
    " ORDER BY top.score DESC, a.article_id"
)
_SQLITE = (
    "WITH found AS MATERIALIZED (SELECT a.doc, -" + _BM25 + " AS score"
    " FROM kb_search_fts CROSS JOIN kb_search a ON a.doc = kb_search_fts.rowid"  # the matches drive the join
    " WHERE kb_search_fts MATCH :q AND a.tenant = :tenant{filters} LIMIT :candidates),"
    " top AS (SELECT doc, score FROM found ORDER BY score DESC LIMIT :limit)"
    " SELECT a.article_id, t.title, t.text, a.language, a.category, top.score FROM top"
    " JOIN kb_search a ON a.doc = top.doc JOIN kb_search_texts t ON t.tenant = a.tenant AND t.article_id = a.article_id"
    " ORDER BY top.score DESC, a.article_id"
)
_IN_CATEGORY = (
    " AND EXISTS (SELECT 1 FROM kb_search_categories c"
    " WHERE c.tenant = a.tenant AND c.category = :category AND c.article_id = a.article_id)"
)
_PUBLIC = " AND a.visibility = 'public'"
_PUBLIC_OR_ORGANISATION = (
    " AND (a.visibility = 'public' OR a.visibility = 'organisations' AND EXISTS (SELECT 1"
    " FROM kb_search_organisations o WHERE o.tenant = a.tenant AND o.article_id = a.article_id"
    " AND o.organisation = :organisation))"
)


def search(
    view: SqlView,
    tenant: str,
    query: str,
    audience: Audience,
    language: str | None = None,
    category: str | None = None,
    limit: int = 10,
) -> list[Hit]:
    """The articles with every word of `query` (any form of it), best first."""
    stems = _narrowest(distinct_stems([query])[:MAX_QUERY_STEMS])
    with _reading(view) as sql:
        return _found(sql, tenant, stems, "AND", audience, language, category, limit)


def suggest(
    view: SqlView, tenant: str, text: str, audience: Audience, language: str | None = None, limit: int = 5
) -> list[Hit]:
    """The articles that best answer a long text (a ticket's title and description, a chat message):
    those with any of its most telling words, best first."""
    with _reading(view) as sql:
        stems = telling(sql, tenant, distinct_stems([text]))
        return _found(sql, tenant, stems, "OR", audience, language, None, limit)


@contextmanager
def _reading(view: SqlView) -> Iterator[Sql]:
    """A read-only transaction on the index. On PostgreSQL the planner would rather scan the table
    than read the GIN index for a prefix query it expects to match many rows (its estimate), and
    evaluate the query on every article's document: several times slower. It is told not to, in a
    pipeline (the setting goes out with the first query: one round trip fewer)."""
    with view.datastore.transaction(commit=False) as cursor:
        sql = Sql(cursor, view.postgres)
        if not sql.postgres:
            yield sql
            return
        with cursor.connection.pipeline():
            sql.execute("SET LOCAL enable_seqscan = off")
            yield sql


def telling(sql: Sql, tenant: str, stems: list[str]) -> list[str]:
    """The SUGGESTION_STEMS of `stems` found in the fewest of the tenant's articles (and in some):
    the words that tell what the text is about, not the ones many articles have; no more of them
    than find CANDIDATES articles between them."""
    stems = stems[:MAX_TEXT_STEMS]
    if not stems:
        return []
    names = {f"s{n}": s for n, s in enumerate(["", *stems])}
    rows = sql.query(
        "SELECT stem, articles FROM kb_search_terms WHERE tenant = :tenant AND stem IN"
        f" ({', '.join(':' + name for name in names)}) AND articles > 0",
        names | {"tenant": tenant},
    )
    frequency = {row["stem"]: row["articles"] for row in rows}
    total = frequency.pop("", 0)
    weight = {s: math.log(1 + (total - n + 0.5) / (n + 0.5)) for s, n in frequency.items()}
    ranked = sorted(weight, key=lambda s: (-weight[s], s))[:SUGGESTION_STEMS]
    chosen, found = list[str](), 0  # at most CANDIDATES articles found (the rarest stem's, however many)
    for s in ranked:
        if weight[s] < LEAST_WEIGHT * weight[ranked[0]] or (chosen and found + frequency[s] > CANDIDATES):
            break
        chosen.append(s)
        found += frequency[s]
    return _broadest(chosen)


def _narrowest(stems: list[str]) -> list[str]:
    """Of stems that must all be found, those no other one begins with (`печата` makes `печа` moot)."""
    return [s for s in stems if not any(o != s and is_prefix(s) and o.startswith(s) for o in stems)]


def _broadest(stems: list[str]) -> list[str]:
    """Of stems any of which may be found, those that begin with no other one (`печа` finds `печата`'s)."""
    return [s for s in stems if not any(o != s and is_prefix(o) and s.startswith(o) for o in stems)]


def _found(
    sql: Sql,
    tenant: str,
    stems: list[str],
    operator: str,
    audience: Audience,
    language: str | None,
    category: str | None,
    limit: int,
) -> list[Hit]:
    if not stems or limit < 1:
        return []
    filters, params = _filters(audience, language, category)
    if sql.postgres:
        statement, params["q"] = _POSTGRES, tsquery(stems, "&" if operator == "AND" else "|")
    else:
        statement, params["q"] = _SQLITE, fts5_query(stems, operator)
    rows = sql.query(
        statement.replace("{filters}", filters), params | {"tenant": tenant, "limit": limit, "candidates": CANDIDATES}
    )
    return [
        Hit(row["article_id"], row["title"], snippet(row["text"], stems), row["language"], row["category"],
            round(float(row["score"]), 6))
        for row in rows
    ]  # fmt: skip


def _filters(audience: Audience, language: str | None, category: str | None) -> tuple[str, dict[str, Any]]:
    filters, params = "", dict[str, Any]()
    if language is not None:
        filters, params["language"] = " AND a.language = :language", language
    if category is not None:
        filters, params["category"] = filters + _IN_CATEGORY, category
    if not audience.staff and audience.organisation is None:
        filters += _PUBLIC
    elif not audience.staff:
        filters, params["organisation"] = filters + _PUBLIC_OR_ORGANISATION, audience.organisation
    return filters, params
