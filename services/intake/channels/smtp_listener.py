"""The desk's SMTP listener (aiosmtpd) on its own port: mail for the desk's addresses, and nothing else.

`RCPT TO` an address that is not a desk mailbox is refused there (550 5.1.1), before any data
is sent; `SIZE` and the data itself are capped (552). The `250` after `DATA` is sent only once
the message is stored on its ticket, so a crash after it loses nothing, and a client that never
saw it sends again, which the Message-ID makes harmless. A message that could not be stored for
a passing reason (the database away) gets `451`: the sender's server tries again later.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from services.chassis.runtime.runtime import Worker
from services.intake.channels.email_in import EmailIntake
from services.intake.channels.loops import Refusal

log = logging.getLogger(__name__)


class DeskHandler:
    """aiosmtpd's handler hooks (`handle_<COMMAND>`), answering with SMTP reply lines."""

    def __init__(self, email: EmailIntake) -> None:
        self.email = email

    async def handle_RCPT(  # aiosmtpd's hook names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.email.mailbox(address) is None:
            self.email.counters.refused("email", "unknown_recipient")
            log.warning("mail to %s refused: unknown_recipient (550)", address)
            return f"550 5.1.1 <{address}>: no such desk address"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        numbers = []
        for recipient in envelope.rcpt_tos:
            try:
                landed = await asyncio.to_thread(self.email.receive, raw, envelope.mail_from or "", recipient)
            except Refusal as refused:
                return refused.reply
            except Exception:  # told to the client as a temporary failure, never dropped
                log.exception("mail to %s not stored (451)", recipient)
                return "451 4.3.0 the message could not be stored: try again later"
            numbers.append(landed.number)
        return f"250 2.0.0 stored on {', '.join(numbers)}"


def listener(email: EmailIntake, host: str, port: int, max_bytes: int, hostname: str) -> Worker:
    """A worker serving SMTP on `host:port` until the process stops."""

    async def serve(stopping: asyncio.Event) -> None:
        handler = DeskHandler(email)

        def protocol() -> Any:
            return SMTP(
                handler,
                data_size_limit=max_bytes,
                enable_SMTPUTF8=True,
                hostname=hostname,
                ident="servicedesk",
                timeout=120,
            )

        server = await asyncio.get_running_loop().create_server(protocol, host, port)
        log.info("SMTP listening on %s:%d", host, port)
        try:
            await stopping.wait()
        finally:
            server.close()
            await server.wait_closed()

    return serve
