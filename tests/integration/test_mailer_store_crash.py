"""A mail the relay accepted while PostgreSQL crashed is recorded sent once PostgreSQL is back, and goes out
once: the mailer tries the record again while the store is away. Before, the record failed, the claim went
stale, and the mail went out again (40 mails twice in 20 PostgreSQL SIGKILLs of bench/faults.py).

This test stops PostgreSQL: run it only on infrastructure of its own (deploy/local/with-infra.sh).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from services.chassis.runtime.settings import Settings
from services.intake.notifications.compose import Message
from services.intake.notifications.sender import Outcome
from tests.infra import Control, Postgres
from tests.notification_desk import mailer_with

pytestmark = [pytest.mark.infra, pytest.mark.serial]  # stops the shared PostgreSQL

DOWN = 3.0  # seconds PostgreSQL stays down after it crashed
CLAIM_SECONDS = 0.5  # a claim older than this is a dead sender's: its mail goes again


class RelayAcceptsAsPostgresCrashes:
    """A relay that accepts the mail at the instant PostgreSQL crashes (after the claim, before the record),
    and PostgreSQL starting again `DOWN` seconds later."""

    channel = "email"

    def __init__(self, control: Control) -> None:
        self.control = control
        self.sent: list[Message] = []
        self.restarting: threading.Timer | None = None

    def unconfigured(self, tenant: str) -> str | None:
        return None

    async def send(self, message: Message) -> Outcome:
        self.sent.append(message)
        if self.restarting is None:
            self.control.kill()
            self.restarting = threading.Timer(DOWN, self.control.start)
            self.restarting.start()
        return Outcome(sent=True, reply="250 2.0.0 queued")


def test_a_mail_accepted_as_postgres_crashes_is_recorded_once_it_is_back_and_not_sent_again(
    postgres: Postgres,
) -> None:
    control = postgres.control
    assert control is not None, "this test stops PostgreSQL: run it on infrastructure of its own"
    relay = RelayAcceptsAsPostgresCrashes(control)
    with postgres.fresh_settings() as fresh:
        mailboxes = Settings(mailboxes={"s@acme.test": {"tenant": "acme"}}).mailboxes  # validated
        settings = fresh.model_copy(update={"mailboxes": mailboxes})
        mailer, deliveries, ticket_id = mailer_with(settings, relay, claim_seconds=CLAIM_SECONDS)
        try:
            asyncio.run(mailer.step())  # sends, meets the crash, records once PostgreSQL answers
        finally:
            if relay.restarting is not None:
                relay.restarting.join()
        time.sleep(CLAIM_SECONDS + 0.1)
        asyncio.run(mailer.step())  # a claim left unrecorded would be stale by now, and sent again

        [record] = deliveries.log("acme", str(ticket_id))
        assert (record["status"], record["attempts"], record["last_reply"]) == ("sent", 1, "250 2.0.0 queued")
        assert len(relay.sent) == 1
