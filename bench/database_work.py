"""What a command costs PostgreSQL, from its own statistics (no extension needed): transactions, rows read and
written, and the tables that take them, between two snapshots of one database.

PostgreSQL's figures lag its backends by up to a second (each flushes its counts at a transaction's end, at most
once a second), which is noise over a window of tens of seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.infra import Postgres

DATABASE = ("xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated",
            "tup_deleted")  # fmt: skip
TABLE = ("seq_scan", "seq_tup_read", "idx_scan", "idx_tup_fetch", "n_tup_ins", "n_tup_upd", "n_tup_del")


@dataclass(frozen=True)
class DatabaseWork:
    database: dict[str, int]
    tables: dict[str, dict[str, int]]

    @classmethod
    def taken(cls, pg: Postgres, dbname: str) -> DatabaseWork:
        with pg.connect(dbname) as conn:
            row = conn.execute(f"SELECT {', '.join(DATABASE)} FROM pg_stat_database WHERE datname = %s",
                               (dbname,)).fetchone()  # fmt: skip
            rows = conn.execute(
                f"SELECT relname, {', '.join(f'coalesce({c}, 0)' for c in TABLE)} FROM pg_stat_user_tables"
            ).fetchall()
        database = dict(zip(DATABASE, row or (0,) * len(DATABASE), strict=True))
        return cls(database, {name: dict(zip(TABLE, counts, strict=True)) for name, *counts in rows})

    def per_command(self, later: DatabaseWork, commands: int, top: int = 8) -> dict[str, Any]:
        """What happened between this snapshot and `later`, a command: the database's transactions and rows, and
        the `top` tables by rows read and written, with their scans."""
        n = max(commands, 1)
        database = {name: round((later.database[name] - self.database[name]) / n, 1) for name in DATABASE}
        tables: dict[str, dict[str, float]] = {}
        for name, counts in later.tables.items():
            before = self.tables.get(name, dict.fromkeys(TABLE, 0))
            tables[name] = {column: round((counts[column] - before[column]) / n, 2) for column in TABLE}

        def rows(counts: dict[str, float]) -> float:
            return sum(counts[c] for c in ("seq_tup_read", "idx_tup_fetch", "n_tup_ins", "n_tup_upd", "n_tup_del"))

        busiest = sorted(tables.items(), key=lambda item: -rows(item[1]))[:top]
        return {"database": database, "tables": {name: counts for name, counts in busiest if rows(counts) > 0}}
