"""The published log: every public envelope exactly as the relay gave it to Kafka, by store position.

The relay writes a batch's envelopes in the transaction that records how far it has published,
so the log holds what Kafka was given, each event once, and a crash before that commit leaves
neither (the relay republishes the batch). The event feed serves its pages from here as stored
JSON: a rebuild then costs the serving service a query, not a decode and re-encode of every
event. Positions the log cannot answer are transcoded from the store as before: those relayed
before the log began (a store an earlier version published) and the tail the relay has not
published yet. A store in memory (eventsourcing's POPO, in unit tests) keeps no log: its feed
transcodes everything.

During a rolling upgrade a relay of a version from before the log may lead for a while after
the log began; what it publishes is not in the log. The log therefore keeps its head, how far
the relay had published when it last recorded, and a relay that finds the store relayed past
that head when it takes the lead begins the log again there: the positions in between are
transcoded, never skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from eventsourcing.persistence import Tracking, TrackingRecorder

from schemas.envelope import Envelope
from services.chassis.storage.views import Sql, SqlView

RELAY_NAME = "kafka-relay"  # the relay's tracking rows in its own store

_STARTS = "CREATE TABLE IF NOT EXISTS published_log_starts (name TEXT PRIMARY KEY, after_position BIGINT NOT NULL)"
_HEADS = "CREATE TABLE IF NOT EXISTS published_log_heads (name TEXT PRIMARY KEY, relayed BIGINT NOT NULL)"


@dataclass(frozen=True)
class Coverage:
    """What the log can answer now: positions in (`began_after`, `relayed`]."""

    began_after: int | None  # None: the relay has not begun the log yet
    relayed: int

    def covers(self, position: int) -> bool:
        """Whether the log answers what comes right after `position`."""
        return self.began_after is not None and self.began_after <= position < self.relayed


class PublishedLog:
    def __init__(self, recorder: TrackingRecorder, app_name: str) -> None:
        self.name = app_name.lower()
        self.table = f"{self.name}_published"
        self.recorder = recorder
        if not hasattr(recorder, "datastore"):
            self.view: SqlView | None = None
            return
        self.view = SqlView(
            recorder,
            [
                f"""CREATE TABLE IF NOT EXISTS {self.table} (
                position BIGINT PRIMARY KEY,
                tenant TEXT NOT NULL,
                type TEXT NOT NULL,
                envelope TEXT NOT NULL)""",
                f"CREATE INDEX IF NOT EXISTS {self.table}_tenant ON {self.table} (tenant, position)",
                _STARTS,
                _HEADS,
            ],
            name=f"{self.name}-published",
            version=1,
        )

    def begin(self, relayed: int) -> None:
        """Mark where the log begins: right after what the relay had published when it first ran
        with a log (0 for a new store), or, when a relay without the log published after the head
        (`relayed` is past it), right after `relayed`. A relay calls it when it takes the lead."""
        if self.view is None:
            return
        key = {"name": self.name}
        with self.view.transaction() as sql:
            start = sql.query("SELECT after_position FROM published_log_starts WHERE name = :name", key)
            head = sql.query("SELECT relayed FROM published_log_heads WHERE name = :name", key)
            began = int(start[0]["after_position"]) if start else None
            logged_upto = int(head[0]["relayed"]) if head else began  # a log from before heads were kept
            if began is None or logged_upto is None or relayed > logged_upto:
                sql.execute(
                    "INSERT INTO published_log_starts (name, after_position) VALUES (:name, :after)"
                    " ON CONFLICT (name) DO UPDATE SET after_position = excluded.after_position",
                    key | {"after": relayed},
                )
                self._move_head(sql, relayed)

    def record(self, tracking: Tracking, envelopes: Sequence[Envelope]) -> None:
        """The relay's progress and the envelopes it published, in one transaction."""
        if self.view is None:
            self.recorder.insert_tracking(tracking)
            return
        rows = [
            {"position": e.position, "tenant": e.tenant, "type": e.type, "envelope": e.model_dump_json()}
            for e in envelopes
        ]
        with self.view.transaction(tracking) as sql:
            sql.insert(self.table, ("position", "tenant", "type", "envelope"), rows)
            self._move_head(sql, tracking.notification_id)

    def _move_head(self, sql: Sql, relayed: int) -> None:
        sql.execute(
            "INSERT INTO published_log_heads (name, relayed) VALUES (:name, :relayed)"
            " ON CONFLICT (name) DO UPDATE SET relayed = excluded.relayed",
            {"name": self.name, "relayed": relayed},
        )

    def coverage(self) -> Coverage:
        if self.view is None:
            return Coverage(None, 0)
        rows = self.view.query(
            "SELECT (SELECT after_position FROM published_log_starts WHERE name = :name) AS began_after,"
            f" (SELECT MAX(notification_id) FROM {self.view.tracking_table} WHERE application_name = :relay)"
            " AS relayed",
            {"name": self.name, "relay": RELAY_NAME},
        )
        began, relayed = rows[0]["began_after"], rows[0]["relayed"]
        return Coverage(None if began is None else int(began), int(relayed or 0))

    def page(
        self, after: int, upto: int, limit: int, tenant: str | None, *type_sets: Collection[str]
    ) -> tuple[list[str], int]:
        """The envelopes' JSON after `after` up to position `upto`, at most `limit`, of types in each
        of `type_sets` that is not empty, and the position read up to (the last one's when the page
        is full, else `upto`)."""
        conditions = ["position > :after", "position <= :upto"]
        params: dict[str, object] = {"after": after, "upto": upto, "limit": limit}
        if tenant is not None:
            conditions.append("tenant = :tenant")
            params["tenant"] = tenant
        for s, types in enumerate(t for t in type_sets if t):
            names = {f"t{s}_{n}": event_type for n, event_type in enumerate(sorted(types))}
            params |= names
            conditions.append(f"type IN ({', '.join(f':{name}' for name in names)})")
        assert self.view is not None, "a store in memory keeps no log: coverage() covers nothing there"
        rows = self.view.query(
            f"SELECT position, envelope FROM {self.table} WHERE {' AND '.join(conditions)}"
            " ORDER BY position LIMIT :limit",
            params,
        )
        if len(rows) == limit:
            return [row["envelope"] for row in rows], int(rows[-1]["position"])
        return [row["envelope"] for row in rows], upto
