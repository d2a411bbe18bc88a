"""Webhook deliveries: an outbox table filled exactly once per (event, subscription), and the
worker that POSTs each, signed per the Standard Webhooks spec, until the receiver says 2xx.

- Enqueue: the consumer of the public topics writes one delivery row per matching
  subscription with the event's tracking row, in one transaction.
- Deliver: at least once, with the event id as `webhook-id` for the receiver's dedupe;
  a ticket's events reach a subscription in store order (a delivery waits while an
  earlier one of the same ticket is pending; a ticket's run of them goes one after the other,
  in one step of the worker); failures retry with exponential backoff;
  after `max_attempts` a delivery fails, and after `disable_after` failed deliveries in a
  row the subscription is disabled with the reason. Every attempt's outcome is kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
from eventsourcing.persistence import Tracking, TrackingRecorder
from standardwebhooks.webhooks import Webhook

from schemas.envelope import Envelope, EventData
from schemas.tickets import TicketTriggerAppliedV2
from services.chassis.messaging.batching import Delivery
from services.chassis.messaging.outbox import Doorbell, OutboxTable, drain, retry_delay
from services.chassis.storage.ids import url_uuid5
from services.chassis.storage.processing import commit, find
from services.chassis.storage.views import SqlView
from services.intake.tickets.application import Intake
from services.intake.webhooks import transport as webhook_transport
from services.intake.webhooks.subscriptions import WebhookError, Webhooks

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS intake_webhook_deliveries (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        subscription_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        subject TEXT NOT NULL,
        position BIGINT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at DOUBLE PRECISION NOT NULL,
        last_status INTEGER,
        last_error TEXT,
        created_at TEXT NOT NULL,
        delivered_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS intake_webhook_deliveries_due ON intake_webhook_deliveries (status, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS intake_webhook_deliveries_log ON intake_webhook_deliveries (subscription_id, position)",
]
# Requests in flight to one target at most, from one process: a tenant's backlog does not open a connection per
# delivery to its receiver. The rest wait here, not in httpx's pool, which scans every connection and queued request
# at each request's start and end: with a step's hundreds at once, 30 % of the process's samples under the fault
# bench's load (`python -m bench.fault_rate --profile`).
PER_TARGET = 8

COLUMNS = ("id", "tenant", "subscription_id", "event_id", "event_type", "subject", "position", "payload", "status",
           "attempts", "next_attempt_at", "last_status", "last_error", "created_at", "delivered_at")  # fmt: skip


class Deliveries:
    def __init__(self, recorder: TrackingRecorder, intake: Intake) -> None:
        self.view = SqlView(recorder, SCHEMA)
        self.doorbell = Doorbell()
        self.table = OutboxTable(self.view, "intake_webhook_deliveries", self.doorbell, "next_attempt_at")
        self.intake = intake

    def webhooks(self, tenant: str) -> Webhooks | None:
        return find(self.intake, Webhooks.create_id(tenant), Webhooks)

    def enqueue(self, envelope: Envelope, data: EventData, tracking: Tracking) -> None:
        """The consumer's `apply`: `enqueue_many` of one event."""
        self.enqueue_many([(envelope, data, tracking)])

    def enqueue_many(self, events: Sequence[Delivery]) -> None:
        """The consumer's batch (batching.in_view): a pending delivery per subscription that wants the event,
        and per subscription a trigger's firing calls (`ticket.trigger_applied`'s `webhook_ids`, whatever their
        filter), in one transaction with every event's tracking row. One delivery per (event, subscription):
        its id is derived from the two, so a subscription both wanting and called gets one. Each tenant's
        subscriptions are read once a batch (after a broker outage the backlog comes in batches of hundreds)."""
        hooks: dict[str, Webhooks | None] = {}
        rows: list[dict[str, Any]] = []
        for envelope, data, _ in events:
            if envelope.tenant not in hooks:
                hooks[envelope.tenant] = self.webhooks(envelope.tenant)
            rows += self._pending(envelope, data, hooks[envelope.tenant])
        with self.view.transaction(*(tracking for _, _, tracking in events)) as sql:
            sql.insert("intake_webhook_deliveries", COLUMNS, rows, on_conflict=" ON CONFLICT (id) DO NOTHING")
        if rows:
            self.doorbell.ring()

    @staticmethod
    def _pending(envelope: Envelope, data: EventData, hooks: Webhooks | None) -> list[dict[str, Any]]:
        matching = list(hooks.matching(envelope.type)) if hooks is not None else []
        if hooks is not None and isinstance(data, TicketTriggerAppliedV2):
            called = [s for s in data.webhook_ids if s in hooks.subscriptions and s not in matching]
            matching += list(dict.fromkeys(called))
        now, created_at, payload = time.time(), datetime.now(UTC).isoformat(), envelope.model_dump_json()
        return [
            {"id": url_uuid5(f"{subscription_id}/{envelope.id}"), "tenant": envelope.tenant,
             "subscription_id": subscription_id, "event_id": str(envelope.id), "event_type": envelope.type,
             "subject": envelope.subject, "position": envelope.position, "payload": payload, "status": "pending",
             "attempts": 0, "next_attempt_at": now, "last_status": None, "last_error": None,
             "created_at": created_at, "delivered_at": None}
            for subscription_id in matching
        ]  # fmt: skip

    def due(self, now: float, limit: int) -> list[dict[str, Any]]:
        """Pending deliveries whose time has come and none of whose ticket's earlier pending ones waits for a
        later instant (a retry put off), in store order: a ticket's run of them, sent one after the other."""
        return self.view.query(
            "SELECT * FROM intake_webhook_deliveries d WHERE d.status = 'pending' AND d.next_attempt_at <= :now"
            " AND NOT EXISTS (SELECT 1 FROM intake_webhook_deliveries e WHERE e.subscription_id = d.subscription_id"
            " AND e.subject = d.subject AND e.status = 'pending' AND e.position < d.position"
            " AND e.next_attempt_at > :now)"
            " ORDER BY d.position LIMIT :limit",
            {"now": now, "limit": limit},
        )

    def log(self, tenant: str, subscription_id: str, limit: int) -> list[dict[str, Any]]:
        return self.view.query(
            "SELECT id, event_id, event_type, subject, position, status, attempts, last_status, last_error,"
            " created_at, delivered_at FROM intake_webhook_deliveries WHERE tenant = :tenant"
            " AND subscription_id = :subscription_id ORDER BY position DESC LIMIT :limit",
            {"tenant": tenant, "subscription_id": subscription_id, "limit": limit},
        )

    def redeliver(self, tenant: str, subscription_id: str, delivery_id: str) -> bool:
        with self.view.transaction() as sql:
            sql.execute(
                "UPDATE intake_webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = :now"
                " WHERE id = :id AND tenant = :tenant AND subscription_id = :subscription_id",
                {"id": delivery_id, "tenant": tenant, "subscription_id": subscription_id, "now": time.time()},
            )
        self.doorbell.ring()
        found = self.view.query(
            "SELECT id FROM intake_webhook_deliveries WHERE id = :id AND tenant = :tenant",
            {"id": delivery_id, "tenant": tenant},
        )
        return bool(found)

    def record(self, delivery_id: str, **columns: Any) -> None:
        self.table.record(delivery_id, **columns)

    def record_many(self, changes: Sequence[tuple[str, dict[str, Any]]]) -> None:
        self.table.record_many(changes)


@dataclass(frozen=True)
class Outcome:
    delivery: dict[str, Any]
    ok: bool
    status: int | None = None
    error: str | None = None
    gone: bool = False  # the subscription is inactive or removed: nothing to send


class Deliverer:
    def __init__(
        self,
        intake: Intake,
        deliveries: Deliveries,
        retry_base_seconds: float = 1.0,
        max_attempts: int = 8,
        disable_after: int = 3,
        batch: int = 200,
    ) -> None:
        self.intake = intake
        self.deliveries = deliveries
        self.retry_base_seconds = retry_base_seconds
        self.max_attempts = max_attempts
        self.disable_after = disable_after
        self.batch = batch
        self._targets: dict[tuple[str, str, int | None], asyncio.Semaphore] = {}

    async def run(self, stopping: asyncio.Event) -> None:
        async with (
            webhook_transport.client(allow_private=False) as outside,
            webhook_transport.client(allow_private=True) as anywhere,
        ):
            step = partial(self.step, {False: outside, True: anywhere})
            await drain(stopping, "webhooks", step, self.deliveries.doorbell)

    async def step(self, clients: dict[bool, httpx.AsyncClient]) -> int:
        """Send the deliveries due now and record their outcomes; how many there were. `clients`: the
        client for tenants that keep targets outside the network (False), and for those that do not.
        A ticket's deliveries to a subscription go one after the other, in store order, stopping at the first
        that fails (the rest wait for its retry); the tickets' runs go at once. After an outage a ticket has
        a run of them: they go in one step, not one a step."""
        due = await asyncio.to_thread(self.deliveries.due, time.time(), self.batch)
        tenants = {d["tenant"] for d in due}  # each tenant's subscriptions read once per batch
        hooks = {t: await asyncio.to_thread(self.deliveries.webhooks, t) for t in tenants}
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for delivery in due:
            runs.setdefault((delivery["subscription_id"], delivery["subject"]), []).append(delivery)
        sent = await asyncio.gather(*(self._send_run(clients, run, hooks[run[0]["tenant"]]) for run in runs.values()))
        outcomes = [outcome for run in sent for outcome in run]
        await asyncio.to_thread(self._record, outcomes, hooks)
        return len(outcomes)

    async def _send_run(
        self, clients: dict[bool, httpx.AsyncClient], run: list[dict[str, Any]], hooks: Webhooks | None
    ) -> list[Outcome]:
        """A ticket's deliveries to one subscription, in order, up to and with the first that fails."""
        outcomes = []
        for delivery in run:
            outcomes.append(await self._send(clients, delivery, hooks))
            if not (outcomes[-1].ok or outcomes[-1].gone):
                break
        return outcomes

    async def _send(
        self, clients: dict[bool, httpx.AsyncClient], delivery: dict[str, Any], hooks: Webhooks | None
    ) -> Outcome:
        spec = hooks.subscriptions.get(delivery["subscription_id"]) if hooks is not None else None
        if hooks is None or spec is None or not spec["active"]:
            return Outcome(delivery, ok=False, gone=True)
        now = datetime.now(UTC)
        payload: str = delivery["payload"]
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery["event_id"],
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(spec["secret"]).sign(delivery["event_id"], now, payload),
        }
        try:
            async with self._slot(spec["url"]):
                reply = await clients[hooks.allow_private].post(spec["url"], content=payload.encode(), headers=headers)
        except WebhookError as error:  # the name resolves inward (now): refused as the connection opens
            return Outcome(delivery, ok=False, error=str(error))
        except httpx.HTTPError as error:
            return Outcome(delivery, ok=False, error=f"{type(error).__name__}: {error}")
        if 200 <= reply.status_code < 300:
            return Outcome(delivery, ok=True, status=reply.status_code)
        return Outcome(delivery, ok=False, status=reply.status_code, error=f"HTTP {reply.status_code}")

    def _slot(self, url: str) -> asyncio.Semaphore:
        """One of the `PER_TARGET` places for requests in flight to `url`'s origin."""
        target = httpx.URL(url)
        origin = (target.scheme, target.host, target.port)
        if (slots := self._targets.get(origin)) is None:
            slots = self._targets[origin] = asyncio.Semaphore(PER_TARGET)
        return slots

    def _record(self, outcomes: list[Outcome], hooks: dict[str, Webhooks | None]) -> None:
        """The batch's outcomes in one transaction; then what they tell each subscription: a delivery that ran out
        of retries counts against it, one delivered ends a run of failures (read from `hooks`, each tenant's
        subscriptions as the batch began: a subscription with none to end is not loaded again per delivery)."""
        changes: list[tuple[str, dict[str, Any]]] = []
        told: list[tuple[dict[str, Any], str, tuple[Any, ...]]] = []
        failing = {(tenant, sid) for tenant, found in hooks.items() if found is not None
                   for sid, spec in found.subscriptions.items() if spec["failures"]}  # fmt: skip
        for outcome in outcomes:
            delivery = outcome.delivery
            attempts = int(delivery["attempts"]) + 1
            subscription = (delivery["tenant"], delivery["subscription_id"])
            if outcome.gone:
                changes.append((delivery["id"], {"status": "cancelled", "last_error": "the subscription is inactive"}))
            elif outcome.ok:
                changes.append((delivery["id"], {"status": "delivered", "attempts": attempts,
                                "last_status": outcome.status, "last_error": None,
                                "delivered_at": datetime.now(UTC).isoformat()}))  # fmt: skip
                if subscription in failing:
                    told.append((delivery, "delivered", ()))
                    failing.discard(subscription)
            elif attempts >= self.max_attempts:
                changes.append((delivery["id"], {"status": "failed", "attempts": attempts,
                                "last_status": outcome.status, "last_error": outcome.error}))  # fmt: skip
                told.append((delivery, "delivery_failed", (outcome.error or "failed", self.disable_after)))
                failing.add(subscription)
            else:
                backoff = retry_delay(self.retry_base_seconds, attempts)
                changes.append((delivery["id"], {"attempts": attempts, "last_status": outcome.status,
                                "last_error": outcome.error, "next_attempt_at": time.time() + backoff}))  # fmt: skip
        self.deliveries.record_many(changes)
        for delivery, command, args in told:
            self._on_subscription(delivery, command, *args)

    def _on_subscription(self, delivery: dict[str, Any], command: str, *args: Any) -> None:
        """Run `command` of the tenant's Webhooks on the delivery's subscription (`delivered`, `delivery_failed`)."""

        def decide() -> list[Any]:
            hooks = self.deliveries.webhooks(delivery["tenant"])
            if hooks is None:
                return []
            getattr(hooks, command)(delivery["subscription_id"], *args)
            return [hooks]

        commit(self.intake, decide)
