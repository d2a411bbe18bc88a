"""The knowledge base's read model: every article's listing row, the categories, the search index.

Fed from the service's own store by the chassis' StoreProjector, so it can be dropped and
rebuilt from the events at any time (`python -m services.knowledge.main rebuild`) and must
then equal the live one. A published article is in the search index; a draft or an archived
one is not.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder

from services.chassis.storage.projector import SqlProjection
from services.chassis.storage.views import Sql
from services.knowledge import search
from services.knowledge.markdown import plain_text

VIEW = "knowledge-articles-view"
LISTED = ("id", "tenant", "language", "title", "category", "tags", "visibility", "organisations", "status", "version",
          "translations", "attachments", "created_at", "updated_at", "updated_by", "published_at")  # fmt: skip
JSON = ("tags", "organisations", "translations", "attachments")
DRAFTED = ("tenant", "language", "title", "body", "category", "visibility")
COLUMNS = {*LISTED, "body"}
INDEX_TABLES = ("kb_search", "kb_search_texts", "kb_search_categories", "kb_search_organisations", "kb_search_terms")
# The index's rows as a reader sees them (not the store's own numbering or tsvector)
INDEXED = "tenant, article_id, language, category, visibility"

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS kb_articles (
        id TEXT PRIMARY KEY, tenant TEXT NOT NULL, language TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
        category TEXT, tags TEXT NOT NULL, visibility TEXT NOT NULL, organisations TEXT NOT NULL,
        status TEXT NOT NULL, version INTEGER NOT NULL, translations TEXT NOT NULL, attachments TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, published_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS kb_articles_by_tenant ON kb_articles (tenant, updated_at, id)",
    """CREATE TABLE IF NOT EXISTS kb_categories (
        tenant TEXT NOT NULL, slug TEXT NOT NULL, names TEXT NOT NULL, parent TEXT, position INTEGER NOT NULL,
        PRIMARY KEY (tenant, slug))""",
    "CREATE TABLE IF NOT EXISTS kb_tenants (stream TEXT PRIMARY KEY, tenant TEXT NOT NULL)",
]


class ArticlesProjection(SqlProjection):
    name = VIEW

    def __init__(self, recorder: TrackingRecorder) -> None:
        self.schema = [*SCHEMA, *search.index_schema(isinstance(recorder, PostgresTrackingRecorder))]
        super().__init__(recorder)

    def write(self, sql: Sql, event: Any) -> None:
        kind = type(event).__qualname__
        if kind.startswith("Categories."):
            self._category(sql, kind, event)
            return
        if not kind.startswith("Article."):
            return
        key = {"id": str(event.originator_id)}
        at = {"version": event.originator_version, "updated_at": event.timestamp.isoformat(), "updated_by": event.by}
        match kind:
            case "Article.Drafted":
                row = {name: getattr(event, name) for name in DRAFTED} | {
                    name: json.dumps(getattr(event, name)) for name in ("tags", "organisations", "translations")
                }
                row |= {"attachments": "[]", "status": "draft", "created_at": event.timestamp.isoformat(),
                        "published_at": None}  # fmt: skip
                columns = [*LISTED, "body"]
                sql.execute(
                    f"INSERT INTO kb_articles ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})",
                    key | at | row,
                )
            case "Article.Revised":
                changes = {
                    k: json.dumps(v) if k in JSON else v for k, v in event.changes.items() if k != "source_ticket"
                }
                self._update(sql, key | at | changes)
            case "Article.Published":
                self._update(sql, key | at | {"status": "published", "published_at": event.at.isoformat()})
            case "Article.Archived":
                self._update(sql, key | at | {"status": "archived"})
            case "Article.TranslationLinked":
                found = self._row(sql, key["id"])
                translations = json.loads(found["translations"]) | {event.language: event.article_id}
                self._update(sql, key | at | {"translations": json.dumps(translations)})
            case "Article.AttachmentAdded":
                found = self._row(sql, key["id"])
                attachments = [*json.loads(found["attachments"]), event.attachment]
                self._update(sql, key | at | {"attachments": json.dumps(attachments)})
        self._index(sql, self._row(sql, key["id"]))

    def _update(self, sql: Sql, values: dict[str, Any]) -> None:
        sets = ", ".join(f"{name} = :{name}" for name in values if name != "id")
        sql.execute(f"UPDATE kb_articles SET {sets} WHERE id = :id", values)

    def _row(self, sql: Sql, article_id: str) -> dict[str, Any]:
        sql.execute("SELECT * FROM kb_articles WHERE id = :id", {"id": article_id})
        return sql.rows()[0]

    def _index(self, sql: Sql, row: dict[str, Any]) -> None:
        if row["status"] != "published":
            search.remove(sql, row["tenant"], row["id"])
            return
        categories = self._ancestors(sql, row["tenant"], row["category"])
        search.put(sql, search.IndexedArticle(
            tenant=row["tenant"], id=row["id"], language=row["language"], title=row["title"],
            text=plain_text(row["body"]), categories=categories, tags=json.loads(row["tags"]),
            visibility=row["visibility"], organisations=json.loads(row["organisations"]),
        ))  # fmt: skip

    def _ancestors(self, sql: Sql, tenant: str, slug: str | None) -> list[str]:
        found: list[str] = []
        while slug is not None and slug not in found:
            found.append(slug)
            sql.execute("SELECT parent FROM kb_categories WHERE tenant = :tenant AND slug = :slug",
                        {"tenant": tenant, "slug": slug})  # fmt: skip
            rows = sql.rows()
            slug = rows[0]["parent"] if rows else None
        return found

    def _category(self, sql: Sql, kind: str, event: Any) -> None:
        match kind:
            case "Categories.Defined":
                spec = event.spec
                sql.execute("DELETE FROM kb_categories WHERE tenant = :tenant AND slug = :slug",
                            {"tenant": self._tenant(sql, event), "slug": event.slug})  # fmt: skip
                sql.execute(
                    "INSERT INTO kb_categories VALUES (:tenant, :slug, :names, :parent, :position)",
                    {"tenant": self._tenant(sql, event), "slug": event.slug, "names": json.dumps(spec["names"]),
                     "parent": spec["parent"], "position": spec["position"]},
                )  # fmt: skip
            case "Categories.Removed":
                sql.execute("DELETE FROM kb_categories WHERE tenant = :tenant AND slug = :slug",
                            {"tenant": self._tenant(sql, event), "slug": event.slug})  # fmt: skip
            case "Categories.Started":
                sql.execute("INSERT INTO kb_tenants VALUES (:stream, :tenant)",
                            {"stream": str(event.originator_id), "tenant": event.tenant})  # fmt: skip

    def _tenant(self, sql: Sql, event: Any) -> str:
        sql.execute("SELECT tenant FROM kb_tenants WHERE stream = :stream", {"stream": str(event.originator_id)})
        return str(sql.rows()[0]["tenant"])

    # -- reading ------------------------------------------------------------------------

    def articles(self, tenant: str, filters: dict[str, Any], limit: int, after: str | None) -> list[dict[str, Any]]:
        """Newest change first; `after` is the `updated_at/id` of the last row of the page before."""
        where, params = ["tenant = :tenant"], {"tenant": tenant, "limit": limit}
        for name in ("status", "category", "language", "visibility"):
            if filters.get(name) is not None:
                where.append(f"{name} = :{name}")
                params[name] = filters[name]
        if filters.get("tag") is not None:
            where.append("tags LIKE :tag")
            params["tag"] = f"%{json.dumps(filters['tag'])}%"
        if filters.get("audience") is not None:  # a customer: published, public or of their organisation
            where.append("status = 'published' AND (visibility = 'public' OR (visibility = 'organisations'"
                         " AND organisations LIKE :organisation))")  # fmt: skip
            params["organisation"] = f"%{json.dumps(filters['audience'])}%"
        if after is not None:
            updated_at, _, article_id = after.partition("/")
            where.append("(updated_at < :after_at OR (updated_at = :after_at AND id < :after_id))")
            params |= {"after_at": updated_at, "after_id": article_id}
        rows = self.view.query(
            f"SELECT {', '.join(LISTED)} FROM kb_articles WHERE {' AND '.join(where)}"
            " ORDER BY updated_at DESC, id DESC LIMIT :limit",
            params,
        )
        return [row | {name: json.loads(row[name]) for name in JSON} for row in rows]

    def in_use(self, tenant: str, slug: str) -> bool:
        rows = self.view.query(
            "SELECT 1 FROM kb_articles WHERE tenant = :tenant AND category = :slug AND status <> 'archived' LIMIT 1",
            {"tenant": tenant, "slug": slug},
        )
        return bool(rows)

    def everything(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table (a rebuild must give the same)."""
        tables = {
            "kb_articles": ("*", "id"), "kb_categories": ("*", "tenant, slug"), "kb_tenants": ("*", "stream"),
            "kb_search": (INDEXED, "tenant, article_id"), "kb_search_texts": ("*", "tenant, article_id"),
            "kb_search_terms": ("*", "tenant, stem"),
            "kb_search_categories": ("*", "tenant, category, article_id"),
            "kb_search_organisations": ("*", "tenant, article_id, organisation"),
        }  # fmt: skip
        return {
            table: self.view.query(f"SELECT {columns} FROM {table} ORDER BY {order}")
            for table, (columns, order) in tables.items()
        }

    def drop(self) -> None:
        """Forget everything: the next catch-up rebuilds from the first event."""
        with self.view.transaction() as sql:
            for table in ("kb_articles", "kb_categories", "kb_tenants", *INDEX_TABLES):
                sql.execute(f"DELETE FROM {table}")
            if not self.view.postgres:
                sql.execute("DELETE FROM kb_search_fts")
            sql.execute(f"DELETE FROM {self.view.tracking_table} WHERE application_name = :name", {"name": VIEW})
