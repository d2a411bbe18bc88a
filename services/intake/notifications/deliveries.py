"""The messages a notification becomes: one per channel the requester is answered on, each with
its delivery record (status, attempts, the last reply or error, when it was sent).

A notification is *routed* once: when its ticket's reply routes are known (or `route_wait`
has passed without any), its messages are written and the notification marked, in one
transaction, each message's id derived from the notification and the channel, so two
mailers routing the same notification write each message once.

Sending claims a message first (`pending` -> `sending`, committed) and records the outcome
right after the server's answer. A claim older than `claim_seconds` means its sender died
between the two: the message is in doubt and is sent again, with the same Message-ID.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import TrackingRecorder

from services.chassis.messaging.outbox import Doorbell, OutboxTable
from services.chassis.storage.ids import stable_id
from services.chassis.storage.views import Sql, SqlView
from services.intake.notifications.outbox import GROUP
from services.intake.notifications.outbox import SCHEMA as OUTBOX_SCHEMA

SCHEMA = [
    *OUTBOX_SCHEMA,
    """CREATE TABLE IF NOT EXISTS intake_notification_deliveries (
        id TEXT PRIMARY KEY,
        notification_id TEXT NOT NULL,
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        channel TEXT NOT NULL,
        message_key TEXT NOT NULL,
        details TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at DOUBLE PRECISION NOT NULL,
        claimed_at DOUBLE PRECISION,
        last_reply TEXT,
        last_error TEXT,
        sent_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS intake_notification_deliveries_due"
    " ON intake_notification_deliveries (status, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS intake_notification_deliveries_ticket"
    " ON intake_notification_deliveries (tenant, ticket_id, created_at)",
]

# what the delivery log shows
_COLUMNS = "id, kind, channel, message_key, status, attempts, last_reply, last_error, created_at, sent_at"


class Deliveries:
    def __init__(self, recorder: TrackingRecorder, claim_seconds: float = 60.0) -> None:
        self.view = SqlView(recorder, SCHEMA)
        self.doorbell = Doorbell()  # rung by the outbox's fillers too (main.py)
        self.table = OutboxTable(self.view, "intake_notification_deliveries", self.doorbell, "next_attempt_at")
        self.notifications = OutboxTable(self.view, "intake_notifications", self.doorbell, "next_check_at")
        self.claim_seconds = claim_seconds

    # -- routing ---------------------------------------------------------------

    def waiting(self, now: float, limit: int) -> list[dict[str, Any]]:
        """The oldest unrouted notification of each ticket, when its next look at the routes is due
        (the later ones of a ticket follow it, so the thread keeps its order); a trigger's notice to a group
        is in no thread of the requester's: it waits for none and none waits for it."""
        return self.view.query(
            "SELECT * FROM intake_notifications n WHERE n.status = 'waiting' AND n.next_check_at <= :now"
            " AND (n.kind = 'group' OR NOT EXISTS (SELECT 1 FROM intake_notifications e WHERE e.tenant = n.tenant"
            " AND e.ticket_id = n.ticket_id AND e.status = 'waiting' AND e.kind <> 'group'"
            " AND e.created_at < n.created_at))"
            " ORDER BY n.created_at LIMIT :limit",
            {"now": now, "limit": limit},
        )

    def route(self, first: dict[str, Any], channels: list[str]) -> int:
        """Write a message per channel of the ticket's unrouted notifications (`first` and those after
        it) and mark them routed, at once; how many notifications that was."""
        with self.view.transaction() as sql:
            waiting = (
                [first]
                if first["kind"] == GROUP
                else sql.query(
                    "SELECT * FROM intake_notifications WHERE tenant = :tenant AND ticket_id = :ticket_id"
                    " AND status = 'waiting' AND kind <> 'group' ORDER BY created_at",
                    {"tenant": first["tenant"], "ticket_id": first["ticket_id"]},
                )
            )
            for notification in waiting:
                self._route(sql, notification, channels)
        return len(waiting)

    def _route(self, sql: Sql, notification: dict[str, Any], channels: list[str]) -> None:
        for channel in channels:
            sql.execute(
                "INSERT INTO intake_notification_deliveries VALUES (:id, :notification_id, :tenant, :ticket_id,"
                " :kind, :channel, :message_key, :details, :created_at, 'pending', 0, :now, NULL, NULL, NULL,"
                " NULL) ON CONFLICT (id) DO NOTHING",
                {"id": stable_id("deliveries", notification['id'], channel),
                 "notification_id": notification["id"], "tenant": notification["tenant"],
                 "ticket_id": notification["ticket_id"], "kind": notification["kind"], "channel": channel,
                 "message_key": notification["message_key"], "details": notification["details"],
                 "created_at": notification["created_at"], "now": time.time()},
            )  # fmt: skip
        sql.execute("UPDATE intake_notifications SET status = 'routed' WHERE id = :id", {"id": notification["id"]})

    def look_again(self, notification: dict[str, Any], after: float, give_up: bool) -> None:
        """No route yet: look again `after` seconds from now, or give up (`unrouted`)."""
        self.notifications.record(
            notification["id"],
            status="unrouted" if give_up else "waiting",
            checks=int(notification["checks"]) + 1,
            next_check_at=time.time() + after,
        )

    # -- sending ---------------------------------------------------------------

    def due(self, now: float, limit: int) -> list[dict[str, Any]]:
        """Messages to send now: pending (or held) ones whose time has come, and stale claims; none of them
        behind an earlier unsent message of its ticket on its channel (the thread keeps its order)."""
        return self.view.query(
            "SELECT * FROM intake_notification_deliveries d WHERE ((d.status IN ('pending', 'held')"
            " AND d.next_attempt_at <= :now)"
            " OR (d.status = 'sending' AND d.claimed_at <= :stale)) AND (d.kind = 'group' OR NOT EXISTS (SELECT 1"
            " FROM intake_notification_deliveries e WHERE e.tenant = d.tenant AND e.ticket_id = d.ticket_id"
            " AND e.channel = d.channel AND e.kind <> 'group' AND e.status IN ('pending', 'sending')"
            " AND e.created_at < d.created_at))"
            " ORDER BY d.created_at LIMIT :limit",
            {"now": now, "stale": now - self.claim_seconds, "limit": limit},
        )

    def claim(self, delivery: dict[str, Any]) -> bool:
        """Take the message for one attempt; False when another sender took it first."""
        with self.view.transaction() as sql:
            claimed = sql.query(
                "UPDATE intake_notification_deliveries SET status = 'sending', attempts = attempts + 1,"
                " claimed_at = :now WHERE id = :id AND status = :status AND attempts = :attempts RETURNING id",
                {
                    "id": delivery["id"],
                    "status": delivery["status"],
                    "attempts": delivery["attempts"],
                    "now": time.time(),
                },
            )
        return bool(claimed)

    def sent(self, accepted: Sequence[tuple[str, str]]) -> list[None]:
        """Messages accepted by their servers (delivery id, the server's reply), recorded in one transaction; an
        earlier attempt's error stays on each record, with the attempts. One outcome (None) each."""
        at = datetime.now(UTC).isoformat()
        self.table.record_many([(delivery_id, {"status": "sent", "last_reply": reply[:500], "sent_at": at})
                                for delivery_id, reply in accepted])  # fmt: skip
        return [None] * len(accepted)

    def attempt_failed(self, delivery_id: str, error: str, reply: str | None, retry_in: float | None) -> None:
        """Retry in `retry_in` seconds; None: the message failed for good."""
        status = "failed" if retry_in is None else "pending"
        self.table.record(
            delivery_id,
            status=status,
            last_error=error[:500],
            last_reply=reply and reply[:500],
            next_attempt_at=time.time() + (retry_in or 0.0),
        )

    def held(self, delivery_id: str, reason: str, look_again_in: float) -> None:
        """Not attempted: the channel is not configured. Kept, and tried again later (attempts unchanged)."""
        self.table.record(delivery_id, status="held", last_error=reason, next_attempt_at=time.time() + look_again_in)

    def previous(self, delivery: dict[str, Any], limit: int = 20) -> list[str]:
        """The message keys sent before this one on its ticket and channel, oldest first (the thread)."""
        rows = self.view.query(
            "SELECT message_key FROM intake_notification_deliveries WHERE tenant = :tenant AND ticket_id = :ticket_id"
            " AND channel = :channel AND kind <> 'group' AND created_at < :created_at ORDER BY created_at DESC"
            " LIMIT :limit",
            {"tenant": delivery["tenant"], "ticket_id": delivery["ticket_id"], "channel": delivery["channel"],
             "created_at": delivery["created_at"], "limit": limit},
        )  # fmt: skip
        return [row["message_key"] for row in reversed(rows)]

    def log(self, tenant: str, ticket_id: str, limit: int = 200) -> list[dict[str, Any]]:
        """The ticket's messages, oldest first, with their delivery records."""
        rows = self.view.query(
            f"SELECT {_COLUMNS} FROM intake_notification_deliveries WHERE tenant = :tenant AND ticket_id = :ticket_id"
            " ORDER BY created_at LIMIT :limit",
            {"tenant": tenant, "ticket_id": ticket_id, "limit": limit},
        )
        for row in rows:
            row["created_at"] = datetime.fromtimestamp(row["created_at"], UTC).isoformat()
        return rows

    def waiting_log(self, tenant: str, ticket_id: str) -> list[dict[str, Any]]:
        """The ticket's notifications with no message yet (waiting for a route, or given up on)."""
        return self.view.query(
            "SELECT kind, message_key, status, checks FROM intake_notifications WHERE tenant = :tenant"
            " AND ticket_id = :ticket_id AND status <> 'routed' ORDER BY created_at",
            {"tenant": tenant, "ticket_id": ticket_id},
        )
