"""The settings of a desk's channels: its e-mail addresses and its tenants' Telegram bots."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Mailbox(BaseModel):
    """A desk e-mail address: the tenant whose mail it receives, the group new tickets go to."""

    tenant: str
    group: str | None = None
    language: str = "en"


class TelegramBot(BaseModel):
    """A tenant's Telegram bot: its token, the secret its webhook calls carry, what opens a ticket."""

    token: str
    webhook_secret: str
    hashtags: list[str] = Field(default_factory=lambda: ["#support", "#bug"])
    group: str | None = None
