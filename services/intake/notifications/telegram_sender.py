"""Notifications by Telegram: the tenant's bot answers in the customer's chat, as a reply to
their message, through the Bot API's `sendMessage` (`{telegram_api_url}/bot{token}/sendMessage`).

A 429 (with `retry_after`), a 5xx or a network error is worth another attempt; any other
refusal (a 400 for a wrong chat, a 403 from a customer who blocked the bot) is final.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.chassis.runtime.settings import Settings
from services.intake.notifications.compose import Message
from services.intake.notifications.sender import Outcome


def send_message_request(message: Message) -> dict[str, Any]:
    request: dict[str, Any] = {"chat_id": message.route.address, "text": f"{message.subject}\n\n{message.body}"}
    if message.route.reply_to and message.route.reply_to.isdigit():
        request["reply_parameters"] = {"message_id": int(message.route.reply_to), "allow_sending_without_reply": True}
    return request


class TelegramSender:
    channel = "telegram"

    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client

    def unconfigured(self, tenant: str) -> str | None:
        if tenant not in self.settings.telegram_bots:
            return f"tenant {tenant} has no Telegram bot (SERVICEDESK_TELEGRAM_BOTS): held until it has"
        return None

    async def send(self, message: Message) -> Outcome:
        token = self.settings.telegram_bots[message.tenant].token
        url = f"{self.settings.telegram_api_url.rstrip('/')}/bot{token}/sendMessage"
        try:
            answer = await self.client.post(url, json=send_message_request(message))
        except httpx.HTTPError as error:
            return Outcome(sent=False, error=f"{type(error).__name__}: {error}")
        try:
            result: dict[str, Any] = answer.json()
        except ValueError:
            result = {}
        if answer.status_code == 200 and result.get("ok"):
            sent_id = result.get("result", {}).get("message_id")
            key = f"{message.route.address}:{sent_id}" if sent_id is not None else None
            return Outcome(sent=True, reply=f"message_id {sent_id}", thread_key=key)
        said = f"HTTP {answer.status_code} {result.get('description', answer.text[:200])}"
        transient = answer.status_code == 429 or answer.status_code >= 500
        return Outcome(sent=False, error=said, reply=said, permanent=not transient)
