"""Read-model tables written with their tracking rows in one transaction, on SQLite or PostgreSQL.

Statements use `:name` parameters; on PostgreSQL they are rewritten to psycopg's
`%(name)s`. Portable SQL only (ON CONFLICT works on both).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from typing import Any

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder

_NAMED = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


@lru_cache(maxsize=1024)
def _for_psycopg(statement: str) -> str:
    return _NAMED.sub(r"%(\1)s", statement)


class Sql:
    def __init__(self, cursor: Any, postgres: bool) -> None:
        self.cursor = cursor
        self.postgres = postgres

    def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> None:
        self.cursor.execute(_for_psycopg(statement) if self.postgres else statement, dict(params or {}))

    def rows(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.cursor.fetchall()]


class SqlView:
    def __init__(self, recorder: TrackingRecorder, schema: Sequence[str]) -> None:
        self.recorder = recorder
        self.postgres = isinstance(recorder, PostgresTrackingRecorder)
        self.datastore: Any = recorder.datastore  # type: ignore[attr-defined]
        self.tracking_table: str = getattr(recorder, "tracking_table_name", "tracking")
        with self.transaction() as sql:
            for statement in schema:
                sql.execute(statement)

    @contextmanager
    def transaction(self, *tracking: Tracking) -> Iterator[Sql]:
        """One committed transaction; the `tracking` rows go first, so a duplicate fails before any
        effect. (Several when a batch of events is applied at once, as a rebuild does.)"""
        # On PostgreSQL the statements go out as one pipeline: a round trip per transaction, not
        # per statement (a rebuild's batch is thousands of statements).
        with self.datastore.transaction(commit=True) as cursor, self._pipeline(cursor):
            for row in tracking:
                self.recorder._insert_tracking(cursor, row)  # type: ignore[attr-defined]
            yield Sql(cursor, self.postgres)

    def _pipeline(self, cursor: Any) -> AbstractContextManager[Any]:
        return cursor.connection.pipeline() if self.postgres else nullcontext()

    def query(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as cursor:
            sql = Sql(cursor, self.postgres)
            sql.execute(statement, params)
            return sql.rows()
