"""The bytes of files attached to articles, in a table beside the service's store.

The bytes are kept first; the article then records the attachment (its id, name, type and
size) as an event, so an article never names a file that is not there. Bytes are never
changed: a new file is a new attachment."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import TrackingRecorder

from services.chassis.storage.views import SqlView

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS kb_files (
        id TEXT PRIMARY KEY, tenant TEXT NOT NULL, article_id TEXT NOT NULL, name TEXT NOT NULL,
        content_type TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, content BYTEA NOT NULL)"""
]


class Files:
    def __init__(self, recorder: TrackingRecorder) -> None:
        self.view = SqlView(recorder, SCHEMA, name="knowledge-files")

    def keep(self, tenant: str, article_id: UUID, name: str, content_type: str, content: bytes) -> dict[str, Any]:
        """Keep the bytes; the attachment as the article records it."""
        attachment = {"id": str(uuid4()), "name": name, "content_type": content_type, "size": len(content)}
        with self.view.transaction() as sql:
            sql.execute(
                "INSERT INTO kb_files VALUES"
                " (:id, :tenant, :article_id, :name, :content_type, :size, :sha256, :content)",
                attachment | {"tenant": tenant, "article_id": str(article_id), "content": content,
                              "sha256": hashlib.sha256(content).hexdigest()},
            )  # fmt: skip
        return attachment

    def content(self, tenant: str, article_id: UUID, attachment_id: UUID) -> bytes | None:
        rows = self.view.query(
            "SELECT content FROM kb_files WHERE id = :id AND tenant = :tenant AND article_id = :article_id",
            {"id": str(attachment_id), "tenant": tenant, "article_id": str(article_id)},
        )
        return bytes(rows[0]["content"]) if rows else None
