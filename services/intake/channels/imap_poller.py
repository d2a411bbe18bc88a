"""IMAP polling of an existing mailbox: the second way mail comes in, handled as SMTP's is.

Each poll (stdlib imaplib, in a thread) reads the unseen messages of the folder by UID and
hands each to `EmailIntake.receive`; only once it is stored (or refused, with its reason
logged and counted for good) is the message flagged `\\Seen`, so a crash between the two reads
it again, which its Message-ID makes harmless. A message that failed or was refused for a
passing reason (a 4xx: the sender's rate) stays unseen and is tried on a later poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
from dataclasses import dataclass
from email.parser import BytesHeaderParser

from services.chassis.runtime.runtime import Worker
from services.chassis.runtime.settings import Settings
from services.intake.channels.email_in import EmailIntake
from services.intake.channels.loops import Refusal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailboxAccess:
    host: str
    port: int
    ssl: bool
    user: str
    password: str
    folder: str
    address: str  # the desk address this mailbox receives for

    @classmethod
    def of(cls, settings: Settings) -> MailboxAccess:
        if not (settings.imap_host and settings.imap_user and settings.imap_password and settings.imap_address):
            raise ValueError("IMAP polling needs SERVICEDESK_IMAP_HOST, _USER, _PASSWORD and _ADDRESS")
        return cls(
            settings.imap_host,
            settings.imap_port,
            settings.imap_ssl,
            settings.imap_user,
            settings.imap_password,
            settings.imap_folder,
            settings.imap_address,
        )

    def connect(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4_SSL(self.host, self.port) if self.ssl else imaplib.IMAP4(self.host, self.port)
        client.login(self.user, self.password)
        status, _ = client.select(self.folder)
        if status != "OK":
            raise RuntimeError(f"IMAP folder {self.folder!r} cannot be selected")
        return client


def poll_once(email: EmailIntake, access: MailboxAccess) -> int:
    """Receive every unseen message once; how many were stored or refused."""
    client = access.connect()
    try:
        status, found = client.uid("SEARCH", "UNSEEN")
        if status != "OK":
            raise RuntimeError(f"IMAP SEARCH failed: {found!r}")
        handled = 0
        for uid in found[0].split():
            status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")  # PEEK: not \Seen until stored
            raw = next((part[1] for part in parts if isinstance(part, tuple)), None)
            if status != "OK" or not isinstance(raw, bytes):
                continue
            sender = str(BytesHeaderParser().parsebytes(raw).get("Return-Path") or "").strip() or "<unknown>"
            try:
                email.receive(raw, sender, access.address)
            except Refusal as refused:  # logged and counted by `receive`
                if refused.code < 500:
                    continue  # refused for now (the sender's rate): left unseen, tried again on a later poll
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            handled += 1
        return handled
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            log.warning("IMAP logout failed")


def poller(email: EmailIntake, access: MailboxAccess, every_seconds: float) -> Worker:
    async def run(stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await asyncio.to_thread(poll_once, email, access)
            except (OSError, imaplib.IMAP4.error, RuntimeError) as error:  # the server away: try again later
                log.warning("IMAP poll failed, trying again later: %r", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=every_seconds)

    return run
