"""Answer first, in memory: the message a Telegram chat holds while articles are offered, and the offer."""

from __future__ import annotations

from services.intake.channels.offers import Held, HeldMessage, Offers
from services.intake.channels.self_service import OfferedArticle
from services.intake.channels.telegram_offer import offer_request
from tests.privacy import memory_intake


def test_a_held_message_is_sealed_and_ends_once() -> None:
    intake = memory_intake()
    offers = Offers(intake, intake.personal)
    held = Held(10, 4711, "req-1", "Принтер не печатает", ["a-1"])

    offers.hold("acme", "telegram", "555", held)

    assert offers.pending("acme", "telegram", "555") == held
    assert offers.pending("globex", "telegram", "555") is None, "another tenant's chat of the same id"
    stored = [vars(e) for e in intake.recorder.select_notifications(1, 100)]
    assert not any("Принтер".encode() in e["state"] for e in stored), "the words are sealed"
    assert offers.end("acme", "telegram", "555", "ticket_opened") == held
    assert offers.end("acme", "telegram", "555", "ticket_opened") is None, "ended once: counted once"
    assert offers.pending("acme", "telegram", "555") is None
    assert intake.recorder.select_notifications(1, 100)[-1].topic.endswith("HeldMessage.Ended")
    assert HeldMessage.create_id("acme", "telegram", "x") != HeldMessage.create_id("globex", "telegram", "x")


def test_an_offer_lists_the_articles_with_links_and_a_button_each_in_the_senders_language() -> None:
    articles = [OfferedArticle("a-1", "Принтер не печатает", "https://desk.example/t/acme/articles/a-1")]

    russian = offer_request(555, 10, articles, "ru")
    english = offer_request(555, 10, articles, "en-GB")

    assert "https://desk.example/t/acme/articles/a-1" in russian["text"]
    assert russian["reply_parameters"]["message_id"] == 10
    keyboard = russian["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard] == ["kb:ok:a-1", "kb:none"]
    assert keyboard[-1][0]["text"] == "Ничего не помогло"
    assert english["reply_markup"]["inline_keyboard"][-1][0]["text"] == "None of these helped"
