"""The event tables refuse UPDATE and DELETE: history is appended to, never rewritten.

A database trigger stops the service itself (or a careless script) from editing the
past. Someone with the rights to drop the trigger still can; the hash chain then
shows where (services/intake/audit/chain.py).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresDatastore

_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION servicedesk_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END $$
"""


def protect(app: Application[Any]) -> None:
    """Install the append-only trigger on `app`'s events table (idempotent)."""
    datastore: Any = app.recorder.datastore  # type: ignore[attr-defined]
    table: str = getattr(app.recorder, "events_table_name", "stored_events")
    trigger = f"{table}_append_only"
    with datastore.transaction(commit=True) as cursor:
        if isinstance(datastore, PostgresDatastore):
            cursor.execute("SELECT pg_advisory_xact_lock(4242)")  # several processes start at once
            cursor.execute(_POSTGRES_FUNCTION)
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION servicedesk_refuse_rewrite()"
            )
        else:
            for operation in ("UPDATE", "DELETE"):
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {trigger}_{operation.lower()} BEFORE {operation} ON {table}"
                    f" BEGIN SELECT RAISE(ABORT, 'events are append-only: {operation} refused'); END"
                )
