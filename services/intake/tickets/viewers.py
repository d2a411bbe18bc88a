"""Who of the staff has a ticket open right now, and whether they are writing to it (collision).

Not a fact of the ticket's story: a heartbeat, kept a few seconds. So it is no event but one small
table of intake's store, a row per person and ticket that each beat renews; a row whose beat stopped
(the page closed, the browser or the replica killed) expires on its own. Every gateway replica writes
and reads the same table, so a viewer shows on every replica's streams. Instants are the replica's
clock (replicas keep theirs in step; a second of skew shortens or lengthens a few seconds' lease).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import TrackingRecorder

from services.chassis.storage.views import SqlView

EXPIRES_SECONDS = 6.0  # without a beat for this long, a viewer is gone (the pages beat every 2 s)
FORGOTTEN_SECONDS = 60.0  # expired rows are deleted after this long, by the next beat of anyone

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS intake_ticket_viewers (
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        name TEXT NOT NULL,
        activity TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (tenant, ticket_id, subject))""",
    "CREATE INDEX IF NOT EXISTS intake_ticket_viewers_expiry ON intake_ticket_viewers (expires_at)",
]


@dataclass(frozen=True)
class Viewer:
    subject: str
    name: str
    activity: str  # viewing or replying


class Viewers:
    def __init__(
        self, recorder: TrackingRecorder, seconds: float = EXPIRES_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self.view = SqlView(recorder, SCHEMA, name="ticket-viewers")
        self.seconds = seconds
        self.clock = clock

    def beat(self, tenant: str, ticket_id: UUID, subject: str, name: str, activity: str) -> None:
        """`subject` has the ticket open (and is `activity`) for the next few seconds."""
        now = self.clock()
        row = {"tenant": tenant, "ticket": str(ticket_id), "subject": subject, "name": name, "activity": activity,
               "expires": now + self.seconds}  # fmt: skip
        with self.view.transaction() as sql:
            sql.execute(
                "INSERT INTO intake_ticket_viewers VALUES (:tenant, :ticket, :subject, :name, :activity, :expires)"
                " ON CONFLICT (tenant, ticket_id, subject) DO UPDATE SET name = excluded.name,"
                " activity = excluded.activity, expires_at = excluded.expires_at",
                row,
            )
            sql.execute(
                "DELETE FROM intake_ticket_viewers WHERE expires_at < :forgotten",
                {"forgotten": now - FORGOTTEN_SECONDS},
            )

    def leave(self, tenant: str, ticket_id: UUID, subject: str) -> None:
        with self.view.transaction() as sql:
            sql.execute(
                "DELETE FROM intake_ticket_viewers"
                " WHERE tenant = :tenant AND ticket_id = :ticket AND subject = :subject",
                {"tenant": tenant, "ticket": str(ticket_id), "subject": subject},
            )

    def of(self, tenant: str, ticket_id: UUID) -> list[Viewer]:
        """Who has the ticket open now, by name."""
        rows = self.view.query(
            "SELECT subject, name, activity FROM intake_ticket_viewers WHERE tenant = :tenant AND ticket_id = :ticket"
            " AND expires_at > :now ORDER BY name, subject",
            {"tenant": tenant, "ticket": str(ticket_id), "now": self.clock()},
        )
        return [Viewer(**row) for row in rows]

    def of_tickets(self, tenant: str, ticket_ids: list[UUID]) -> dict[str, list[Viewer]]:
        """Who has each of several tickets open now (by ticket id): one query for them all."""
        names = {f"t{n}": str(ticket_id) for n, ticket_id in enumerate(ticket_ids)}
        rows = self.view.query(
            "SELECT ticket_id, subject, name, activity FROM intake_ticket_viewers WHERE tenant = :tenant"
            f" AND ticket_id IN ({', '.join(':' + n for n in names)}) AND expires_at > :now"
            " ORDER BY ticket_id, name, subject",
            {"tenant": tenant, "now": self.clock()} | names,
        )
        found: dict[str, list[Viewer]] = {}
        for row in rows:
            found.setdefault(row.pop("ticket_id"), []).append(Viewer(**row))
        return found
