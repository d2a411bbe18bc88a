"""The index's tables, and how an article goes in and out of them inside a projection's transaction.

`kb_search` holds a row per article (its text, for snippets, and its distinct stems); on PostgreSQL
also `document`, a tsvector made by the article language's configuration (title A, text B, tags C)
under a GIN index; on SQLite the FTS5 table `kb_search_fts` holds the stems of the same three parts
(the row's `doc` is its rowid). Categories (the article's and their ancestors) and organisations
have tables of their own, so the filters are exact and indexed. `kb_search_terms` counts, per
tenant, the articles that hold each stem or a longer one beginning with it (every stem counts for
its beginnings down to MIN_PREFIX letters: what a query's stem finds), and under the empty stem
the articles: suggestions pick a text's rarest words by it, in one indexed look-up.
"""

from __future__ import annotations

from services.chassis.storage.views import Sql
from services.chassis.text.stems import prefixes
from services.knowledge.search.model import IndexedArticle
from services.knowledge.search.terms import distinct_stems, normal, stemmed

CONFIGURATIONS = {"ru": "russian", "en": "english"}

# What is searched and filtered, in rows small enough to stay uncompressed in the table (on PostgreSQL
# a row over 2 kB has its largest values compressed, to be expanded again for every match ranked: a
# few times slower); what is shown, and the stems, in a table of their own, read for the hits only.
_ARTICLES = """CREATE TABLE IF NOT EXISTS kb_search (
    {key}
    tenant TEXT NOT NULL,
    article_id TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT,
    visibility TEXT NOT NULL{document},
    UNIQUE (tenant, article_id))"""
_SIDE_TABLES = [
    "CREATE TABLE IF NOT EXISTS kb_search_texts (tenant TEXT NOT NULL, article_id TEXT NOT NULL,"
    " title TEXT NOT NULL, text TEXT NOT NULL, stems TEXT NOT NULL, PRIMARY KEY (tenant, article_id))",
    "CREATE TABLE IF NOT EXISTS kb_search_categories (tenant TEXT NOT NULL, category TEXT NOT NULL,"
    " article_id TEXT NOT NULL, PRIMARY KEY (tenant, category, article_id))",
    "CREATE INDEX IF NOT EXISTS kb_search_categories_article ON kb_search_categories (tenant, article_id)",
    "CREATE TABLE IF NOT EXISTS kb_search_organisations (tenant TEXT NOT NULL, organisation TEXT NOT NULL,"
    " article_id TEXT NOT NULL, PRIMARY KEY (tenant, article_id, organisation))",
    "CREATE TABLE IF NOT EXISTS kb_search_terms (tenant TEXT NOT NULL, stem TEXT NOT NULL,"
    " articles INTEGER NOT NULL, PRIMARY KEY (tenant, stem))",
]
POSTGRES_SCHEMA = [
    _ARTICLES.format(key="", document=",\n    document TSVECTOR NOT NULL"),
    # Without GIN's pending list: every search would read through the entries not yet merged into
    # the index (up to 4 MB of them): ten times slower after a burst of writes, until a vacuum. Articles
    # are written seldom and read all the time.
    "CREATE INDEX IF NOT EXISTS kb_search_document ON kb_search USING GIN (document) WITH (fastupdate = off)",
    *_SIDE_TABLES,
]
SQLITE_SCHEMA = [
    _ARTICLES.format(key="doc INTEGER PRIMARY KEY,", document=""),
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_search_fts USING fts5(title, text, tags, tokenize = 'unicode61')",
    *_SIDE_TABLES,
]
_UPSERT = (
    "INSERT INTO kb_search (tenant, article_id, language, category, visibility{document})"
    " VALUES (:tenant, :article_id, :language, :category, :visibility{value})"
    " ON CONFLICT (tenant, article_id) DO UPDATE SET language = excluded.language, category = excluded.category,"
    " visibility = excluded.visibility{updated}"
)
POSTGRES_UPSERT = _UPSERT.format(
    document=", document",
    value=", setweight(to_tsvector(:configuration::regconfig, :title_words), 'A')"
    " || setweight(to_tsvector(:configuration::regconfig, :text_words), 'B')"
    " || setweight(to_tsvector(:configuration::regconfig, :tag_words), 'C')",
    updated=", document = excluded.document",
)
SQLITE_UPSERT = _UPSERT.format(document="", value="", updated="") + " RETURNING doc"
_TEXT = (
    "INSERT INTO kb_search_texts (tenant, article_id, title, text, stems) VALUES (:tenant, :article_id, :title,"
    " :text, :stems) ON CONFLICT (tenant, article_id) DO UPDATE SET title = excluded.title, text = excluded.text,"
    " stems = excluded.stems"
)
_COUNT = " ON CONFLICT (tenant, stem) DO UPDATE SET articles = kb_search_terms.articles + excluded.articles"


def index_schema(postgres: bool) -> list[str]:
    """The statements that create the index's tables (each is idempotent)."""
    return list(POSTGRES_SCHEMA if postgres else SQLITE_SCHEMA)


def put(sql: Sql, article: IndexedArticle) -> None:
    """Index `article` (a published one), replacing what the index held of it."""
    key = {"tenant": article.tenant, "article_id": str(article.id)}
    before = _stems_of(sql, key)
    after = distinct_stems([article.title, article.text, *article.tags])
    counted_before, counted_after = _counted(before), _counted(after)
    _count(sql, article.tenant, [s for s in counted_after if s not in counted_before], +1)
    _count(sql, article.tenant, [s for s in counted_before if s not in counted_after], -1)
    row = key | {"language": article.language, "category": article.category, "visibility": article.visibility}
    sql.execute(_TEXT, key | {"title": article.title, "text": article.text, "stems": " ".join(after)})
    if sql.postgres:
        sql.execute(
            POSTGRES_UPSERT,
            row | {
                "configuration": CONFIGURATIONS[article.language], "title_words": normal(article.title),
                "text_words": normal(article.text), "tag_words": normal(" ".join(article.tags)),
            },
        )  # fmt: skip
    else:
        doc = sql.query(SQLITE_UPSERT, row)[0]["doc"]
        sql.execute("DELETE FROM kb_search_fts WHERE rowid = :doc", {"doc": doc})
        sql.execute(
            "INSERT INTO kb_search_fts (rowid, title, text, tags) VALUES (:doc, :title, :text, :tags)",
            {"doc": doc, "title": stemmed(article.title), "text": stemmed(article.text),
             "tags": stemmed(" ".join(article.tags))},
        )  # fmt: skip
    _replace_side_rows(sql, key, article)


def remove(sql: Sql, tenant: str, id: str) -> None:
    """Take the article out of the index (archived, or no longer published); nothing if it is not in."""
    key = {"tenant": tenant, "article_id": str(id)}
    _count(sql, tenant, list(_counted(_stems_of(sql, key))), -1)
    if not sql.postgres:
        sql.execute(
            "DELETE FROM kb_search_fts WHERE rowid IN"
            " (SELECT doc FROM kb_search WHERE tenant = :tenant AND article_id = :article_id)",
            key,
        )
    for table in ("kb_search", "kb_search_texts", "kb_search_categories", "kb_search_organisations"):
        sql.execute(f"DELETE FROM {table} WHERE tenant = :tenant AND article_id = :article_id", key)


def _stems_of(sql: Sql, key: dict[str, str]) -> list[str] | None:
    """The stems of the article as indexed; None when it is not."""
    rows = sql.query("SELECT stems FROM kb_search_texts WHERE tenant = :tenant AND article_id = :article_id", key)
    return rows[0]["stems"].split() if rows else None


def _counted(stems: list[str] | None) -> dict[str, None]:
    """What an indexed article counts for in `kb_search_terms`: the empty stem (the article itself),
    each of its stems and their beginnings."""
    if stems is None:
        return {}
    return {"": None} | dict.fromkeys(beginning for s in stems for beginning in prefixes(s))


def _count(sql: Sql, tenant: str, stems: list[str], change: int) -> None:
    rows = [{"tenant": tenant, "stem": s, "articles": change} for s in stems]
    sql.insert("kb_search_terms", ("tenant", "stem", "articles"), rows, on_conflict=_COUNT)


def _replace_side_rows(sql: Sql, key: dict[str, str], article: IndexedArticle) -> None:
    for table in ("kb_search_categories", "kb_search_organisations"):
        sql.execute(f"DELETE FROM {table} WHERE tenant = :tenant AND article_id = :article_id", key)
    categories = [key | {"category": c} for c in dict.fromkeys(article.categories)]
    sql.insert("kb_search_categories", ("tenant", "category", "article_id"), categories)
    organisations = [key | {"organisation": o} for o in dict.fromkeys(article.organisations)]
    sql.insert("kb_search_organisations", ("tenant", "organisation", "article_id"), organisations)
