"""Search (every word of a query) and suggestions (the telling words of a long text, any of them),
ranked by the store: ts_rank_cd on PostgreSQL, bm25 on SQLite; the caller's audience decides
which articles can be found at all."""

from __future__ import annotations

import math
from typing import Any

from services.chassis.storage.views import SqlView
from services.knowledge.search.model import Audience, Hit
from services.knowledge.search.snippets import snippet
from services.knowledge.search.terms import (
    MAX_QUERY_STEMS,
    distinct_stems,
    fts5_query,
    is_prefix,
    matches,
    tsquery,
)

SUGGESTION_STEMS = 8  # the rarest of a text's stems that a suggestion looks for
# ...if they weigh (idf) at least this share of the rarest's: PostgreSQL's ts_rank_cd knows no idf, and
# a word found in many articles ("problem", "please") would rank them above the one the text is about.
LEAST_WEIGHT = 0.4
_LAST = "\U0010ffff"  # after every character: `stem < s + _LAST` bounds the stems beginning with s
# Weights of D, C (tags), B (text), A (title); normalised by the document's length (its log).
_RANK = "ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', a.document, q, 1)"
_BM25 = "bm25(kb_search_fts, 5.0, 2.0, 1.0)"  # title, text, tags: as the PostgreSQL weights
_POSTGRES = (
    "WITH top AS (SELECT a.tenant, a.article_id, " + _RANK + " AS score"
    " FROM kb_search a, to_tsquery('simple', :q) q WHERE a.tenant = :tenant AND a.document @@ q{filters}"
    " ORDER BY score DESC LIMIT :limit)"
    " SELECT a.article_id, a.title, a.text, a.language, a.category, top.score"
    " FROM top JOIN kb_search a ON a.tenant = top.tenant AND a.article_id = top.article_id"
    " ORDER BY top.score DESC, a.article_id"
)
_SQLITE = (
    "WITH top AS (SELECT a.doc, -" + _BM25 + " AS score"
    " FROM kb_search_fts JOIN kb_search a ON a.doc = kb_search_fts.rowid"
    " WHERE kb_search_fts MATCH :q AND a.tenant = :tenant{filters} ORDER BY score DESC LIMIT :limit)"
    " SELECT a.article_id, a.title, a.text, a.language, a.category, top.score"
    " FROM top JOIN kb_search a ON a.doc = top.doc ORDER BY top.score DESC, a.article_id"
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
    stems = distinct_stems([query])[:MAX_QUERY_STEMS]
    return _found(view, tenant, stems, "AND", audience, language, category, limit)


def suggest(
    view: SqlView, tenant: str, text: str, audience: Audience, language: str | None = None, limit: int = 5
) -> list[Hit]:
    """The articles that best answer a long text (a ticket's title and description, a chat message):
    those with any of its most telling words, best first."""
    stems = telling(view, tenant, distinct_stems([text]))
    return _found(view, tenant, stems, "OR", audience, language, None, limit)


def telling(view: SqlView, tenant: str, stems: list[str]) -> list[str]:
    """The SUGGESTION_STEMS of `stems` found in the fewest of the tenant's articles (and in some):
    the words that tell what the text is about, not the ones many articles have."""
    if not stems:
        return []
    stems = stems[:200]
    ranges = " OR ".join(f"(stem >= :from{n} AND stem < :to{n})" for n in range(len(stems)))
    params: dict[str, Any] = {"tenant": tenant}
    for n, s in enumerate(stems):
        params[f"from{n}"], params[f"to{n}"] = s, (s + _LAST if is_prefix(s) else s + "\x01")
    rows = view.query(
        "SELECT '' AS stem, count(*) AS articles FROM kb_search WHERE tenant = :tenant UNION ALL"
        f" SELECT stem, articles FROM kb_search_terms WHERE tenant = :tenant AND articles > 0 AND ({ranges})",
        params,
    )
    total = max(1, rows[0]["articles"])
    frequency = dict.fromkeys(stems, 0)
    for row in rows[1:]:
        for s in stems:
            if matches(row["stem"], s):
                frequency[s] += row["articles"]
    weight = {s: math.log(1 + (total - n + 0.5) / (n + 0.5)) for s, n in frequency.items() if n}
    ranked = sorted(weight, key=lambda s: -weight[s])[:SUGGESTION_STEMS]
    return [s for s in ranked if weight[s] >= LEAST_WEIGHT * weight[ranked[0]]]


def _found(
    view: SqlView,
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
    if view.postgres:
        statement, params["q"] = _POSTGRES, tsquery(stems, "&" if operator == "AND" else "|")
    else:
        statement, params["q"] = _SQLITE, fts5_query(stems, operator)
    rows = view.query(statement.replace("{filters}", filters), params | {"tenant": tenant, "limit": limit})
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
