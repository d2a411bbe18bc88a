"""The rows a batch of events touches: read once per batch, changed in memory, written back
with one statement per table.

A projection that applies events one SQL statement at a time pays a round trip of work
per statement; a rebuild of hundreds of thousands of events is then bound by statement
count, not by data. Here a batch first loads the rows of every entity it names (one
query per table and tenant), the projection's handlers change plain dicts, and the
changed rows go back as one multi-row upsert per table, in the batch's transaction.
A batch of one event (the live consumer) reads and writes the same way, so both paths
run the same handler code.

Every table is keyed by an entity (a ticket): rows are never shared counters, so two
instances that own different partitions never write the same row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from services.chassis.storage.views import Sql

Row = dict[str, Any]
_CHUNK = 500  # keys per IN (...) list on SQLite: well under its bound-parameter limit


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key
    scope: tuple[str, str] = ("tenant", "ticket_id")  # the entity a batch loads rows by
    row_key: Callable[[Row], tuple[Any, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        getter = itemgetter(*self.key)  # a tuple for two columns or more; a key of one is a 1-tuple
        key: Callable[[Row], tuple[Any, ...]] = getter if len(self.key) > 1 else lambda row: (row[self.key[0]],)
        object.__setattr__(self, "row_key", key)

    def on_conflict(self) -> str:
        """What an insert of a row that exists already does: replace every column but the key."""
        updates = ", ".join(f"{column} = excluded.{column}" for column in self.columns if column not in self.key)
        return f" ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {updates}" if updates else ""


class RowBatch:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self._rows: dict[str, dict[tuple[Any, ...], Row]] = defaultdict(dict)
        self._loaded: dict[str, set[tuple[Any, Any]]] = defaultdict(set)
        self._changed: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        self._tables: dict[str, Table] = {}

    def load(self, table: Table, entities: Iterable[tuple[Any, Any]]) -> None:
        """Read every row of `table` that belongs to `entities` (scope values), unless read already."""
        self._tables[table.name] = table
        wanted = set(entities) - self._loaded[table.name]
        by_outer: dict[Any, list[Any]] = defaultdict(list)
        for outer, inner in wanted:
            by_outer[outer].append(inner)
        outer_column, inner_column = table.scope
        for outer, inners in by_outer.items():
            step = len(inners) if self.sql.postgres else _CHUNK  # PostgreSQL: one array, one round trip
            for start in range(0, len(inners), step):
                chunk = inners[start : start + step]
                if self.sql.postgres:  # one array parameter: a long IN list costs the driver more than the server
                    condition, params = f"{inner_column} = ANY(:keys)", {"keys": chunk}
                else:
                    params = {f"k{n}": value for n, value in enumerate(chunk)}
                    condition = f"{inner_column} IN ({', '.join(':' + name for name in params)})"
                found = self.sql.query(
                    f"SELECT * FROM {table.name} WHERE {outer_column} = :outer AND {condition}",
                    {"outer": outer, **params},
                )
                for row in found:
                    self._rows[table.name][table.row_key(row)] = row
        self._loaded[table.name] |= wanted

    def get(self, table: Table, **key: Any) -> Row | None:
        """The row with this key as changed so far in the batch; None when there is none."""
        entity = (key[table.scope[0]], key[table.scope[1]])
        if entity not in self._loaded[table.name]:
            self.load(table, [entity])
        return self._rows[table.name].get(table.row_key(key))

    def put(self, table: Table, row: Row) -> None:
        """Insert or replace a whole row; written back at `flush`."""
        self._tables[table.name] = table
        key = table.row_key(row)
        self._rows[table.name][key] = row
        self._changed[table.name].add(key)

    def update(self, table: Table, row: Row, **changes: Any) -> None:
        """Change columns of a row returned by `get`."""
        row.update(changes)
        self.put(table, row)

    def flush(self) -> None:
        """Write every changed row back: one multi-row upsert per table."""
        for name, keys in self._changed.items():
            table = self._tables[name]
            rows = self._rows[name]
            self.sql.insert(table.name, table.columns, [rows[key] for key in sorted(keys)], table.on_conflict())
        self._changed.clear()
