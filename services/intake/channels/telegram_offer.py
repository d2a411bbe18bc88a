"""The Telegram bot's offer of articles: one message with their links and a button each ("this
helped"), and "none of these helped"; the held message (offers.py) until a button or the chat's next
message ends it, each end told to the knowledge base as a deflection (self_service.py)."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from services.chassis.runtime.channel_settings import TelegramBot
from services.intake.channels.offers import Held, Offers
from services.intake.channels.self_service import OfferedArticle, Outcome, SelfService

CHANNEL = "telegram"
BUTTON = "kb:"  # the callback data of an offer's buttons: `kb:ok:<article id>`, `kb:none`
NONE_HELPED = f"{BUTTON}none"
HELPED = f"{BUTTON}ok:"
log = logging.getLogger(__name__)

_WORDS = {
    "en": {
        "offer": "Perhaps one of these articles answers it:",
        "ask": "Did one help? Press it. If not, press “None of these helped” or just write again: we open a request.",
        "none": "None of these helped",
        "helped": "Glad it helped!",
        "opened": "We are opening a request.",
    },
    "ru": {
        "offer": "Возможно, ответ есть в одной из этих статей:",
        "ask": "Помогла? Нажмите на неё. Если нет — «Ничего не помогло» или просто напишите ещё: мы откроем заявку.",
        "none": "Ничего не помогло",
        "helped": "Рады, что помогло!",
        "opened": "Открываем заявку.",
    },
}


def offer_request(chat_id: int, reply_to: int, articles: list[OfferedArticle], language: str | None) -> dict[str, Any]:
    """The `sendMessage` request of an offer, in the sender's language (Russian or English)."""
    words = _words(language)
    lines = [words["offer"], *(f"{n}. {a.title}\n{a.url}" for n, a in enumerate(articles, 1)), words["ask"]]
    buttons = [
        [{"text": f"✅ {n}. {a.title}"[:64], "callback_data": f"{HELPED}{a.id}"}] for n, a in enumerate(articles, 1)
    ]
    return {
        "chat_id": chat_id,
        "text": "\n\n".join(lines),
        "reply_parameters": {"message_id": reply_to, "allow_sending_without_reply": True},
        "reply_markup": {"inline_keyboard": [*buttons, [{"text": words["none"], "callback_data": NONE_HELPED}]]},
        "link_preview_options": {"is_disabled": True},
    }


def _words(language: str | None) -> dict[str, str]:
    return _WORDS["ru" if (language or "").lower().startswith("ru") else "en"]


class AnswerFirst:
    """Offers articles before a Telegram message opens a ticket, and ends the offers."""

    def __init__(self, self_service: SelfService, offers: Offers, api_url: str, client: httpx.Client) -> None:
        self.self_service = self_service
        self.offers = offers
        self.api_url = api_url.rstrip("/")
        self.client = client

    def offer(
        self, tenant: str, bot: TelegramBot, chat_id: int, held: Held, language: str | None
    ) -> list[dict[str, str]]:
        """Offer the tenant's best public articles for the message and hold it; nothing offered (an empty
        list: open the ticket now) when there are none or the bot could not send them."""
        articles = self.self_service.suggest(tenant, held.text)
        if (
            not articles
            or self._call(bot, "sendMessage", offer_request(chat_id, held.message_id, articles, language)) is None
        ):
            return []
        self.offers.hold(tenant, CHANNEL, str(chat_id), Held(**(vars(held) | {"offered": [a.id for a in articles]})))
        return [article.shown() for article in articles]

    def next_message(self, tenant: str, chat_id: int, user_id: int) -> Held | None:
        """The held message, when its sender writes again while the offer is open: the ticket opens from it."""
        pending = self.offers.pending(tenant, CHANNEL, str(chat_id))
        if pending is None or pending.user_id != user_id:
            return None
        return self._end(tenant, chat_id, "ticket_opened", None)

    def pressed(
        self, tenant: str, bot: TelegramBot, chat_id: int, user_id: int, query_id: str, data: str
    ) -> str | Held | None:
        """A button of the offer, pressed by whoever wrote the held message: the article that helped (its id), or
        the held message to open the ticket from; None when no offer of theirs is open (or the button is not one)."""
        pending = self.offers.pending(tenant, CHANNEL, str(chat_id))
        article = data.removeprefix(HELPED) if data.startswith(HELPED) else None
        if pending is None or pending.user_id != user_id or (article is None and data != NONE_HELPED):
            return None
        if article is not None and article not in pending.offered:
            return None
        ended = self._end(tenant, chat_id, "solved" if article else "ticket_opened", article)
        words = _words(None if ended is None else _language_of(ended))
        self._call(
            bot,
            "answerCallbackQuery",
            {"callback_query_id": query_id, "text": words["helped" if article else "opened"]},
        )
        if ended is None:
            return None
        return article if article is not None else ended

    def _end(self, tenant: str, chat_id: int, outcome: Outcome, article_id: str | None) -> Held | None:
        ended = self.offers.end(tenant, CHANNEL, str(chat_id), outcome)
        if ended is not None:  # ended here, not by a press or a message at the same moment
            self.self_service.ended(tenant, CHANNEL, outcome, article_id, None)
        return ended

    def _call(self, bot: TelegramBot, method: str, request: dict[str, Any]) -> dict[str, Any] | None:
        """A Bot API method's result, or None when it failed (logged)."""
        try:
            answer = self.client.post(f"{self.api_url}/bot{bot.token}/{method}", json=request)
            result: dict[str, Any] = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("the Bot API's %s failed: %s", method, error)
            return None
        if answer.status_code != 200 or not result.get("ok"):
            log.warning("the Bot API refused %s: HTTP %s %s", method, answer.status_code, result.get("description"))
            return None
        return result


def _language_of(held: Held) -> str | None:
    return "ru" if any("\u0400" <= c <= "\u04ff" for c in held.text) else None
