"""The notifications outbox: one row per ticket event the requester is told about, written with
that event's tracking row in one transaction, so a replay after a crash fills nothing twice.

It is filled from two places: intake's own store (followed by a `StoreProjector`: opened, an
agent's public reply, waiting for the customer, resolved, closed, the satisfaction survey, and a
trigger's firing that notifies a group: one `group` row per address it names) and
SLA's `sla.customer_reminded` on Kafka (the pending reminders). A row names no channel: where
the requester is answered is looked up when the row is *routed* (see `deliveries.py`), so a
reply route the channels record just after the ticket opened still gets the acknowledgement.

Rows hold ids and the event's own fields as recorded: ticket text stays sealed with its
person's key (`personal_data.py`) until a message is rendered, so erasing a person erases their
words from the outbox too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder

from schemas.envelope import Envelope, EventData
from schemas.sla import SlaCustomerRemindedV1
from services.chassis.messaging.outbox import Doorbell
from services.chassis.storage.ids import stable_id
from services.chassis.storage.views import Sql, SqlView
from services.intake.tickets.domain import Ticket
from services.intake.tickets.vocabulary import WaitingFor

NAME = "notifications"
GROUP = "group"  # the kind of a trigger's notice to a group: sent to an address the trigger names
STALE_REMINDER = timedelta(days=1)  # the tracking rows' application name (intake's own store)

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS intake_notifications (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        message_key TEXT NOT NULL,
        details TEXT NOT NULL,
        status TEXT NOT NULL,
        checks INTEGER NOT NULL,
        next_check_at DOUBLE PRECISION NOT NULL,
        created_at DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS intake_notifications_waiting ON intake_notifications (status, next_check_at)",
    "CREATE INDEX IF NOT EXISTS intake_notifications_ticket ON intake_notifications (tenant, ticket_id, status)",
]

RequesterOf = Callable[[UUID], str | None]  # a ticket's requester id, read from the store


def notable(event: Ticket.Event, requester: str | None) -> tuple[str, dict[str, Any]] | None:
    """The kind of notification a ticket event makes, and its details; None for the rest."""
    kind = type(event).__name__
    fields: dict[str, Any] = vars(event)
    if kind == "Opened":
        return "acknowledgement", {"requester_id": fields["requester_id"]}
    if kind == "CommentAdded" and fields["public"] and fields["author_id"] != requester:
        return "reply", {"comment_id": fields["comment_id"], "body": fields["body"], "author_id": fields["author_id"]}
    if kind == "MarkedPending" and fields["waiting_for"] == WaitingFor.CUSTOMER.value:
        return "pending", {"reason": fields["reason"], "pending_until": str(fields["pending_until"])}
    if kind == "Resolved":
        return "resolved", {"resolution": fields["resolution"], "reason": fields["reason"]}
    if kind == "Closed":
        return "closed", {"reason": fields["reason"]}
    if kind == "SurveyRequested":
        return "survey", {}
    return None


def group_notices(event: Ticket.Event, position: int) -> list[tuple[str, dict[str, Any], str]]:
    """A trigger's firing that notifies a group: one `group` notification per address (kind, details, message
    key), the key derived from the event and the address, so each recipient is told once per firing."""
    if type(event).__name__ != "TriggerApplied":
        return []
    group = vars(event)["actions"].get("notify_group") or {}
    return [
        (GROUP, {"address": address, "group_id": group["group_id"], "reason": vars(event)["reason"]},
         f"{position}-{stable_id('recipient', address.lower())}")
        for address in dict.fromkeys(group.get("addresses", []))
    ]  # fmt: skip


class NotificationOutbox:
    """The outbox table, and the two ways it is filled."""

    name = NAME

    def __init__(
        self,
        recorder: TrackingRecorder,
        requester_of: RequesterOf,
        store_position: int = 0,
        doorbell: Doorbell | None = None,
    ) -> None:
        self.view = SqlView(recorder, SCHEMA)
        self.requester_of = requester_of
        self.doorbell = doorbell or Doorbell()  # the mailer's: rung when rows were written
        self._start_at(store_position)

    def _start_at(self, store_position: int) -> None:
        """A desk that turns notifications on tells what happens from then on, not its whole past:
        with no tracking row yet, the store's newest position is recorded as already handled."""
        if store_position and self.position() == 0:
            try:
                with self.view.transaction(Tracking(NAME, store_position)):
                    pass
            except IntegrityError:
                pass  # another replica marked it first

    # -- filling from intake's store (a BatchProjection for StoreProjector) -------------------

    def position(self) -> int:
        return self.view.recorder.max_tracking_id(NAME) or 0

    def apply(self, events: Sequence[tuple[Any, int]], tracking: Sequence[Tracking]) -> None:
        requesters: dict[UUID, str] = {}  # of tickets opened in this batch (not yet readable elsewhere)
        rows = []
        for event, position in events:
            if not isinstance(event, Ticket.Event) or "imported_from" in event.metadata:
                continue  # imported history was told to its people long ago, by the desk it came from
            if isinstance(event, Ticket.Opened):
                requesters[event.originator_id] = event.requester_id
            requester = requesters.get(event.originator_id)
            if requester is None and type(event).__name__ == "CommentAdded":
                requester = self.requester_of(event.originator_id)
            if (found := notable(event, requester)) is not None:
                rows.append((event.tenant, str(event.originator_id), *found, str(position)))
            rows += [(event.tenant, str(event.originator_id), *told) for told in group_notices(event, position)]
        with self.view.transaction(*tracking) as sql:
            for row in rows:
                self._insert(sql, *row)
        if rows:
            self.doorbell.ring()

    # -- filling from SLA's reminders (a consumer's Apply) ------------------------------------

    def remind(self, envelope: Envelope, data: EventData, tracking: Tracking) -> None:
        """One event of `sla.clocks` (a consumer's Apply): see `remind_many`."""
        self.remind_many([(envelope, data, tracking)])

    def remind_many(self, deliveries: Sequence[tuple[Envelope, EventData, Tracking]]) -> None:
        """Events of `sla.clocks` with their tracking rows, in one transaction (a consumer's batch,
        batching.in_view): each customer reminder becomes a notification; the clocks' other events are only
        tracked. A reminder older than `STALE_REMINDER` is no use (a newer one, or the resolution, is due): it
        is tracked and dropped, so a mailer reading `sla.clocks` from its start sends no history."""
        now = datetime.now(UTC)
        reminders: list[tuple[Envelope, SlaCustomerRemindedV1]] = []
        for envelope, data, _ in deliveries:
            if isinstance(data, SlaCustomerRemindedV1) and now - envelope.occurred_at < STALE_REMINDER:
                reminders.append((envelope, data))
        with self.view.transaction(*(tracking for _, _, tracking in deliveries)) as sql:
            for envelope, reminder in reminders:
                details = {
                    "reminder": reminder.reminder,
                    "reminders_before_resolving": reminder.reminders_before_resolving,
                    "next_at": reminder.next_at,
                }
                self._insert(sql, envelope.tenant, reminder.ticket_id, "reminder", details, f"r{envelope.position}")
        if reminders:
            self.doorbell.ring()

    def _insert(self, sql: Sql, tenant: str, ticket_id: str, kind: str, details: dict[str, Any], key: str) -> None:
        now = time.time()
        sql.execute(
            "INSERT INTO intake_notifications VALUES (:id, :tenant, :ticket_id, :kind, :key, :details, 'waiting', 0,"
            " :now, :now) ON CONFLICT (id) DO NOTHING",
            {"id": stable_id("notifications", ticket_id, key), "tenant": tenant,
             "ticket_id": ticket_id, "kind": kind, "key": key, "details": json.dumps(details), "now": now},
        )  # fmt: skip
