"""Read-model tables written with their tracking rows in one transaction, on SQLite or PostgreSQL.

Statements use `:name` parameters; on PostgreSQL they are rewritten to psycopg's
`%(name)s`. Portable SQL only (ON CONFLICT works on both).

PostgreSQL's text (and jsonb) cannot hold a NUL character (U+0000); the API refuses it
(services/chassis/http/text.py), but an event stored before, or one a channel let through, must not
stop a projection forever: on PostgreSQL every value written here has its NULs dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from typing import Any

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.types.json import Jsonb
from pydantic_core import to_json

from services.chassis.storage import batch_tracking, eventsourcing_adapter
from services.chassis.storage.pipelined import one_round_trip
from services.chassis.storage.reads import read_cursor
from services.chassis.storage.setting_up import once_the_store_answers

_SQLITE_MAX_PARAMETERS = 30_000  # of 32,766 bound parameters a statement
_VERSIONS = "CREATE TABLE IF NOT EXISTS view_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
_NAMED = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


def without_nul(value: Any) -> Any:
    """`value` with every NUL character dropped from its strings, however deeply nested."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, Mapping):
        return {key: without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(item) for item in value]
    return value


def _to_jsonb(rows: Any) -> bytes:
    """Rows as JSON for jsonb: pydantic-core's encoder (several times the standard one's speed);
    rows again without NULs when the text shows one may be there (jsonb refuses `\\u0000`)."""
    text = to_json(rows)
    return to_json(without_nul(rows)) if b"\\u0000" in text else text


def _params(params: Mapping[str, Any] | None, postgres: bool) -> dict[str, Any]:
    if not params:
        return {}
    return {name: without_nul(value) for name, value in params.items()} if postgres else dict(params)


@lru_cache(maxsize=1024)
def _for_psycopg(statement: str) -> str:
    return _NAMED.sub(r"%(\1)s", statement)


class Sql:
    """The statements of one transaction on `cursor`. On PostgreSQL each statement runs on a cursor of its own:
    in a pipeline the server may send a statement's result while later statements are still going out (when
    its send buffer fills, and as it shuts down), psycopg gives that result to the cursor that ran the
    statement, and a cursor asked for its rows returns the result it holds without waiting for a later one.
    On one shared cursor a statement read an earlier statement's result
    (tests/integration/test_view_statement_rows.py)."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self.cursor = cursor
        self.postgres = postgres
        self._last = cursor  # the cursor of the latest statement, whose rows `rows` reads

    def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> None:
        if self.postgres:
            self._last = self.cursor.connection.cursor()
            self._last.execute(_for_psycopg(statement), _params(params, postgres=True))
        else:
            self.cursor.execute(statement, _params(params, postgres=False))

    def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]], on_conflict: str = ""
    ) -> None:
        """Many rows (each with every one of `columns`) in one statement, far cheaper than a statement
        per row. On PostgreSQL they go as one JSON parameter that the server turns into the table's
        row type; on SQLite as multi-row VALUES, within its bound-parameter limit."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            self.cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM jsonb_populate_recordset(NULL::{table}, %s)"
                f"{on_conflict}",
                [Jsonb(rows, dumps=_to_jsonb)],
            )
            return
        row = "(" + ", ".join(["?"] * len(columns)) + ")"
        per_statement = _SQLITE_MAX_PARAMETERS // len(columns)
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            self.cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([row] * len(chunk))}{on_conflict}",
                [values[column] for values in chunk for column in columns],
            )

    def query(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows read inside the transaction."""
        self.execute(statement, params)
        return self.rows()

    def rows(self) -> list[dict[str, Any]]:
        """The rows of the latest statement (`execute`)."""
        return [dict(row) for row in self._last.fetchall()]


class SqlView:
    """Tables of one read model. `name` and `version` say which shape of them this code writes: a
    store whose tables an older version filled (or one from before versions were kept, with
    tracking rows already) is `outdated` and must be rebuilt before it is read."""

    def __init__(self, recorder: TrackingRecorder, schema: Sequence[str], name: str = "", version: int = 1) -> None:
        self.recorder = recorder
        self.postgres = isinstance(recorder, PostgresTrackingRecorder)
        self.datastore: Any = recorder.datastore  # type: ignore[attr-defined]
        self.tracking_table: str = getattr(recorder, "tracking_table_name", "tracking")
        self.name, self.version = name, version
        self.outdated = once_the_store_answers(lambda: self._set_up(schema), f"view {name or schema[0][:40]!r}")

    def _set_up(self, schema: Sequence[str]) -> bool:
        """Make the tables; whether they hold an older version's shape."""
        with self.transaction() as sql:
            for statement in (*schema, _VERSIONS):
                sql.execute(statement)
        found = self.query("SELECT version FROM view_versions WHERE name = :name", {"name": self.name})
        if not found and not self.query(f"SELECT 1 FROM {self.tracking_table} LIMIT 1"):
            self.mark_current()  # a new store: nothing to rebuild
            found = [{"version": self.version}]
        return not found or found[0]["version"] != self.version

    def mark_current(self) -> None:
        """Record that the tables now hold this version's shape (after a rebuild)."""
        with self.transaction() as sql:  # an upsert: processes set up on a new store at once each mark it
            sql.execute(
                "INSERT INTO view_versions VALUES (:name, :version)"
                " ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                {"name": self.name, "version": self.version},
            )
        self.outdated = False

    @contextmanager
    def transaction(self, *tracking: Tracking) -> Iterator[Sql]:
        """One committed transaction; the `tracking` rows go first, so a duplicate fails before any
        effect. (Several when a batch of events is applied at once, as a rebuild does.)"""
        # On PostgreSQL the transaction goes out as one pipeline, BEGIN and COMMIT included: a round trip
        # per transaction (and per statement whose rows are read), not per statement (pipelined.py).
        if not self.postgres:
            with self.datastore.transaction(commit=True) as cursor:
                self._insert_tracking(cursor, tracking)
                yield Sql(cursor, postgres=False)
            return
        with self.datastore.get_connection() as conn, one_round_trip(conn) as cursor:
            self._insert_tracking(cursor, tracking)
            yield Sql(cursor, postgres=True)

    def skipped(self, trackings: Sequence[Tracking]) -> set[int]:
        """The indices of a batch's events not to apply: tracked before (one query), or twice in it."""
        return batch_tracking.skipped(self.recorder, trackings)

    def _insert_tracking(self, cursor: Any, tracking: Sequence[Tracking]) -> None:
        """The first row through the recorder (it checks the table's shape), the rest in one statement."""
        if tracking:
            eventsourcing_adapter.insert_tracking(self.recorder, cursor, tracking[0])
        rest = tracking[1:]
        if self.postgres:  # per upstream, its positions as one array: a rebuild's batch is thousands
            by_source: dict[str, list[int]] = {}
            for row in rest:
                by_source.setdefault(row.application_name, []).append(row.notification_id)
            for source, positions in by_source.items():
                cursor.execute(
                    f"INSERT INTO {self.tracking_table} (application_name, notification_id)"
                    " SELECT %s, unnest(%s::bigint[])",
                    [source, "{" + ",".join(map(str, positions)) + "}"],  # as text: psycopg lists items one by one
                )
            return
        rows = [{"application_name": t.application_name, "notification_id": t.notification_id} for t in rest]
        Sql(cursor, self.postgres).insert(self.tracking_table, ("application_name", "notification_id"), rows)

    def stream(
        self, statement: str, params: Mapping[str, Any] | None = None, size: int = 10_000
    ) -> Iterator[list[dict[str, Any]]]:
        """A query's rows `size` at a time, in one read transaction: a table larger than memory can be
        read through (on PostgreSQL by a server-side cursor; SQLite steps through its result anyway)."""
        with self.datastore.transaction(commit=False) as cursor, self._streaming(cursor) as reading:
            reading.execute(_for_psycopg(statement) if self.postgres else statement, _params(params, self.postgres))
            while chunk := reading.fetchmany(size):
                yield [dict(row) for row in chunk]

    def _streaming(self, cursor: Any) -> AbstractContextManager[Any]:
        """A cursor that fetches in chunks: server-side on PostgreSQL; SQLite's own (eventsourcing's
        wrapper of it has no fetchmany)."""
        return cursor.connection.cursor(name="stream") if self.postgres else nullcontext(cursor.sqlite_cursor)

    def statement(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """One statement, committed as a transaction of its own, and the rows it returns: on PostgreSQL
        one round trip (the pool's connections are in autocommit), without BEGIN and COMMIT."""
        if not self.postgres:
            with self.transaction() as sql:
                sql.execute(statement, params)
                return sql.rows()
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(_for_psycopg(statement), _params(params, postgres=True))
            return [dict(row) for row in cursor.fetchall()]

    def statements(self, statement: str, params: Sequence[Mapping[str, Any]]) -> list[list[dict[str, Any]]]:
        """`statement` once for each of `params`, in order, and the rows each returns: on PostgreSQL one
        round trip for all (a pipeline, committed as one transaction at its end)."""
        if not self.postgres:
            return [self.statement(statement, each) for each in params]
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.executemany(
                _for_psycopg(statement), [_params(each, postgres=True) for each in params], returning=True
            )
            return [[dict(row) for row in result.fetchall()] for result in cursor.results()]

    def query(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with read_cursor(self.datastore) as cursor:
            sql = Sql(cursor, self.postgres)
            sql.execute(statement, params)
            return sql.rows()
