"""The Telegram bot's webhook: a message with one of the tenant's hashtags opens a ticket, a reply
in its thread becomes a comment.

Telegram calls `POST /v1/channels/telegram/{tenant}` with each update and the secret the bot's
webhook was registered with (`X-Telegram-Bot-Api-Secret-Token`); that header is the only
credential, so anything without the tenant's secret is a 401 before the body is even read.
Telegram repeats an update it got no 2xx for: the ticket and comment ids derive from the chat
and message ids, so a repeated update finds what the first one did. Every message of a ticket's
thread (`<chat id>:<message id>`) is remembered, so a reply to any of them lands on the ticket,
when it comes from one of the ticket's participants (in a group, anyone else's reply opens a
ticket of their own).

Answer first (self_service.py): a message that would open a ticket is first answered with the
knowledge base's best public articles (links, and a button per article: "this helped", and "none
of these helped"); the message is held (offers.py). "This helped" ends the conversation without a
ticket; "none of these helped" or the chat's next message opens the ticket from the held message
(the next one then comments on it). No articles, or no answer from the knowledge base, or the Bot
API refusing the offer: the ticket opens at once, as it always did.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Mapping
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.chassis.http.auth import Unauthenticated
from services.chassis.runtime.channel_settings import TelegramBot
from services.intake.channels.landing import Incoming, Landed, Landing
from services.intake.channels.offers import Held
from services.intake.channels.participants import Sender
from services.intake.channels.telegram_offer import BUTTON, AnswerFirst
from services.intake.channels.telemetry import ChannelCounters
from services.intake.people.conversations import Conversations, ReplyRoute
from services.intake.people.finder import People

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
log = logging.getLogger(__name__)
_TAG = re.compile(r"[^a-z0-9_.:-]")


class _Telegram(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class User(_Telegram):
    id: int
    is_bot: bool = False
    first_name: str = ""
    last_name: str | None = None
    language_code: str | None = None


class Chat(_Telegram):
    id: int
    type: str = "private"


class Message(_Telegram):
    message_id: int
    chat: Chat
    sender: User | None = Field(default=None, alias="from")
    text: str | None = Field(default=None, max_length=10_000)
    caption: str | None = Field(default=None, max_length=10_000)
    reply_to_message: Message | None = None


class CallbackQuery(_Telegram):
    """A press of an inline button under one of the bot's messages (`data`: the button's)."""

    id: str
    sender: User = Field(alias="from")
    message: Message | None = None
    data: str | None = Field(default=None, max_length=64)


class Update(_Telegram):
    update_id: int
    message: Message | None = None
    callback_query: CallbackQuery | None = None


def router(
    bots: Mapping[str, TelegramBot],
    landing: Landing,
    people: People,
    conversations: Conversations,
    counters: ChannelCounters,
    answer_first: AnswerFirst,
) -> APIRouter:
    api = APIRouter(prefix="/v1/channels", tags=["channels"])

    def handle(tenant: str, bot: TelegramBot, update: Update) -> dict[str, Any]:
        if update.callback_query is not None:
            return pressed(tenant, bot, update.callback_query)
        message = update.message
        text = (message.text or message.caption or "").strip() if message else ""
        if message is None or message.sender is None or message.sender.is_bot or not text:
            return {"outcome": "ignored", "reason": "no message from a person with text"}
        chat_id = message.chat.id
        thread = None
        if message.reply_to_message is not None:
            thread = conversations.ticket_of(tenant, "telegram", f"{chat_id}:{message.reply_to_message.message_id}")
        if thread is None and (opened := answer_first.next_message(tenant, chat_id, message.sender.id)) is not None:
            thread = land(tenant, bot, chat_id, opened).ticket_id  # the held message opens it; this one comments
        hashtags = _hashtags(text, bot.hashtags)
        if thread is None and not hashtags:
            return {"outcome": "ignored", "reason": f"no hashtag ({', '.join(bot.hashtags)}) and no ticket's thread"}
        user = message.sender
        name = " ".join(part for part in (user.first_name, user.last_name) if part) or None
        requester = people.requester_for(tenant, "telegram", str(user.id), name, user.language_code)
        held = Held(message.message_id, user.id, requester, text, [])
        if thread is None and (offer := answer_first.offer(tenant, bot, chat_id, held, user.language_code)):
            return {"outcome": "offered", "articles": offer}
        return _answer(land(tenant, bot, chat_id, held, thread))

    def land(tenant: str, bot: TelegramBot, chat_id: int, held: Held, thread: UUID | None = None) -> Landed:
        hashtags = _hashtags(held.text, bot.hashtags)
        incoming = Incoming(
            tenant=tenant,
            channel="messenger",
            key=f"telegram:{chat_id}:{held.message_id}",
            sender=Sender(held.requester_id, "telegram", str(held.user_id), authenticated=True),  # Telegram vouches
            title=_title(held.text, hashtags),
            text=held.text,
            group_id=bot.group,
            tags=[_TAG.sub("", tag.lstrip("#").lower())[:50] for tag in hashtags],
            language=person.language if (person := people.person(tenant, held.requester_id)) else None,
        )
        landed = landing.land(incoming, thread)
        key = f"{chat_id}:{held.message_id}"
        route = ReplyRoute("telegram", str(chat_id), str(held.message_id)) if landed.reroutes else None
        conversations.remember(tenant, landed.ticket_id, held.requester_id, "telegram", [key], route)
        counters.landed("telegram", landed)
        return landed

    def pressed(tenant: str, bot: TelegramBot, query: CallbackQuery) -> dict[str, Any]:
        """A button of an offer: "this helped" ends it, "none of these helped" opens the ticket."""
        if query.message is None or query.data is None or not query.data.startswith(BUTTON):
            return {"outcome": "ignored", "reason": "not a button of an offer"}
        chat_id = query.message.chat.id
        ended = answer_first.pressed(tenant, bot, chat_id, query.sender.id, query.id, query.data)
        if ended is None:
            return {"outcome": "ignored", "reason": "no offer open in this chat"}
        if isinstance(ended, str):
            return {"outcome": "solved", "article_id": ended}
        return _answer(land(tenant, bot, chat_id, ended))

    @api.post(
        "/telegram/{tenant}",
        responses={
            401: {"description": f"No {SECRET_HEADER}, or not this tenant's bot's secret."},
            422: {"description": "The body is not a Telegram update; `errors` names the fields."},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "A Telegram Bot API `Update`.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def telegram_update(
        tenant: str,
        request: Request,
        secret: Annotated[str | None, Header(alias=SECRET_HEADER, description="The bot's webhook secret.")] = None,
    ) -> dict[str, Any]:
        """One update from the tenant's Telegram bot (its webhook URL)."""
        bot = bots.get(tenant)
        if bot is None or secret is None or not hmac.compare_digest(secret.encode(), bot.webhook_secret.encode()):
            counters.refused("telegram", "secret")
            log.warning("telegram update for %s refused: no or a wrong secret (401)", tenant)
            raise Unauthenticated(f"{SECRET_HEADER} is not this tenant's bot's secret", rule=SECRET_HEADER)
        update = _update(await request.body())
        return await asyncio.to_thread(handle, tenant, bot, update)

    return api


def _update(body: bytes) -> Update:
    try:
        return Update.model_validate(json.loads(body or b"null"))
    except json.JSONDecodeError:
        raise RequestValidationError([{"loc": ("body",), "msg": "not JSON", "type": "json_invalid"}]) from None
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None


def _hashtags(text: str, configured: list[str]) -> list[str]:
    words = {word.lower() for word in re.findall(r"(?<![\w#])#\w+", text)}
    return [tag for tag in configured if tag.lower() in words]


def _title(text: str, hashtags: list[str]) -> str:
    first = text.splitlines()[0]
    for tag in hashtags:
        first = re.sub(re.escape(tag), "", first, flags=re.I)
    return " ".join(first.split()) or "Telegram message"


def _answer(landed: Landed) -> dict[str, Any]:
    return {
        "outcome": landed.outcome,
        "ticket_id": str(landed.ticket_id),
        "number": landed.number,
        "comment_id": landed.comment_id,
    }
