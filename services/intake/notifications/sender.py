"""What a channel's sender answers for one attempt, and what the mailer needs of a sender."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.intake.notifications.compose import Message


@dataclass(frozen=True)
class Outcome:
    sent: bool
    reply: str | None = None  # the server's answer (an SMTP reply, the Bot API's result)
    error: str | None = None
    permanent: bool = False  # the server refused for good (SMTP 5xx, Bot API 400/403): no retry
    thread_key: str | None = None  # how the customer's answer to the sent message names it (Telegram)


class Sender(Protocol):
    channel: str

    def unconfigured(self, tenant: str) -> str | None:
        """Why this channel cannot send for `tenant` now (held until configured); None when it can."""
        ...

    async def send(self, message: Message) -> Outcome: ...
