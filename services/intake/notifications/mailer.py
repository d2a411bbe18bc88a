"""The worker that turns filled notifications into sent messages: routes each notification once
its ticket's reply routes are known, then sends each message, retrying with backoff.

The window in which a message may go out twice is between the server's acceptance (SMTP `250`
after the data, the Bot API's `ok`) and the commit of `sent` right after it: a sender killed in
between leaves a stale claim, and the message is sent again (with the same Message-ID, so mail
clients that dedupe by it show one). Everything else, rendering and the claim, happens before; the
commit outlasts a store that is away for moments. The records of messages accepted at once share
one commit, on a thread of their own: a message waits at most for the commit under way and its
own, not for one commit each of the mails before it, nor behind the composing of the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from services.chassis.messaging.outbox import drain, retry_delay
from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.retries import Backoff
from services.chassis.runtime.thread_batches import ThreadBatches
from services.intake.notifications.compose import Composer, Message, Undeliverable
from services.intake.notifications.deliveries import Deliveries
from services.intake.notifications.outbox import GROUP
from services.intake.notifications.sender import Sender
from services.intake.notifications.templates import TemplateError
from services.intake.people.conversations import ReplyRoute
from services.intake.tickets.work import TicketNotFoundError

log = logging.getLogger(__name__)

HELD_LOOK_AGAIN_SECONDS = 60.0
FIRST_ROUTE_LOOK_SECONDS = 0.5
# A route the channels record is preferred to the requester's bare address (it names the message to
# answer): the channels record it just after the ticket opens, so for a ticket a channel opened the address
# waits this long (compose.py `ROUTING_CHANNELS`).
CONTACT_FALLBACK_SECONDS = 5.0
RECORD_PATIENCE = 30  # attempts to record a sent message while the store is away, a second apart at most


class Mailer:
    def __init__(
        self,
        deliveries: Deliveries,
        composer: Composer,
        senders: Sequence[Sender],
        retry_base_seconds: float = 2.0,
        max_attempts: int = 10,
        route_wait_seconds: float = 30.0,
        batch: int = 50,
    ) -> None:
        self.deliveries = deliveries
        self.composer = composer
        self.senders = {sender.channel: sender for sender in senders}
        self.retry_base_seconds = retry_base_seconds
        self.max_attempts = max_attempts
        self.route_wait_seconds = route_wait_seconds
        self.batch = batch
        records = ThreadPoolExecutor(1, thread_name_prefix="sent-records")
        self._record: ThreadBatches[tuple[str, str], None] = ThreadBatches(deliveries.sent, records)

    async def run(self, stopping: asyncio.Event) -> None:
        await drain(stopping, "notifications", self.step, self.deliveries.doorbell)

    async def step(self) -> int:
        routed = await asyncio.to_thread(self.route_waiting)
        due = await asyncio.to_thread(self.deliveries.due, time.time(), self.batch)
        await asyncio.gather(*(self.deliver(delivery) for delivery in due))
        return routed + len(due)

    # -- routing ---------------------------------------------------------------

    def route_waiting(self) -> int:
        """Route the notifications whose look is due; how many were routed."""
        routed = 0
        for notification in self.deliveries.waiting(time.time(), self.batch):
            waited = time.time() - float(notification["created_at"])
            try:
                ticket_id = UUID(notification["ticket_id"])
                fallback = waited >= CONTACT_FALLBACK_SECONDS
                if notification["kind"] == GROUP:  # to an agent's address the trigger names, not the requester
                    routes = [ReplyRoute("email", json.loads(notification["details"])["address"])]
                else:
                    routes = self.composer.routes(notification["tenant"], ticket_id, fallback)
            except (TicketNotFoundError, ValueError):  # not a ticket of this tenant (an SLA reminder's id)
                routes = []
            if channels := sorted({r.channel for r in routes if r.channel in self.senders}):
                routed += self.deliveries.route(notification, channels)
                continue
            after = FIRST_ROUTE_LOOK_SECONDS * 2 ** int(notification["checks"])  # 0.5 s, 1 s, 2 s, ...
            self.deliveries.look_again(notification, after, give_up=waited >= self.route_wait_seconds)
        return routed

    # -- sending ---------------------------------------------------------------

    async def deliver(self, delivery: dict[str, Any]) -> None:
        sender = self.senders.get(delivery["channel"])
        if sender is None:
            return
        if (reason := sender.unconfigured(delivery["tenant"])) is not None:
            await asyncio.to_thread(self.deliveries.held, delivery["id"], reason, HELD_LOOK_AGAIN_SECONDS)
            return
        previous = await asyncio.to_thread(self.deliveries.previous, delivery)
        try:
            message = await asyncio.to_thread(self.composer.compose, delivery, previous)
        except (Undeliverable, TemplateError) as error:
            await asyncio.to_thread(self.deliveries.attempt_failed, delivery["id"], str(error), None, None)
            return
        if not await asyncio.to_thread(self.deliveries.claim, delivery):
            return  # another mailer took it
        outcome = await sender.send(message)
        if outcome.sent:  # the window: accepted by the server, not yet recorded
            await self._record_sent(delivery["id"], outcome.reply or "")
            if outcome.thread_key is not None and message.kind != GROUP:  # the customer may answer: thread it
                await asyncio.to_thread(
                    self.composer.conversations.bind,
                    message.tenant,
                    message.ticket_id,
                    message.route.channel,
                    outcome.thread_key,
                )
            return
        attempts = int(delivery["attempts"]) + 1
        final = outcome.permanent or attempts >= self.max_attempts
        retry_in = None if final else retry_delay(self.retry_base_seconds, attempts)
        said, reply = _redacted(outcome.error, message) or "failed", _redacted(outcome.reply, message)
        log.info("notification %s: attempt %d failed: %s", delivery["id"], attempts, said)
        await asyncio.to_thread(self.deliveries.attempt_failed, delivery["id"], said, reply, retry_in)

    async def _record_sent(self, delivery_id: str, reply: str) -> None:
        """Record a message the server accepted, trying again while the store is away (PostgreSQL restarting):
        given up, the claim would go stale and the message out again. A mailer killed meanwhile, or a store
        away for longer than `RECORD_PATIENCE` attempts, still sends it twice, under the same Message-ID."""
        backoff = Backoff(initial=0.1, maximum=1.0)
        while True:
            try:
                await self._record((delivery_id, reply))
                return
            except TRANSIENT_STORE_ERRORS as error:
                if backoff.failures >= RECORD_PATIENCE:
                    raise
                log.info("notification %s: sent, recording it when the store answers: %r", delivery_id, error)
                await asyncio.sleep(backoff.failed())


def _redacted(text: str | None, message: Message) -> str | None:
    """A server's answer without the requester's address (servers echo it): the delivery record
    keeps no personal data in the clear."""
    return text.replace(message.route.address, "<requester>") if text else text
