"""Notification texts and mail headers, without I/O: templates per tenant and language, the
thread headers of a mail, and which ticket events notify the requester."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from services.intake.notifications.compose import Message
from services.intake.notifications.mail_sender import build_mail
from services.intake.notifications.outbox import notable
from services.intake.notifications.telegram_sender import send_message_request
from services.intake.notifications.templates import TemplateError, Templates
from services.intake.people.conversations import ReplyRoute
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.domain import Ticket
from services.intake.tickets.vocabulary import WaitingFor

CONTEXT = {"number": "SD-2026-000001", "title": "VPN", "name": None, "ticket_id": "t", "tenant": "acme"}


def message(kind: str = "reply", reply_to: str | None = "<cust-1@example.com>", thread: list[str] | None = None,
            channel: str = "email", address: str = "jane@example.com") -> Message:  # fmt: skip
    return Message(
        tenant="acme", ticket_id=uuid4(), kind=kind, route=ReplyRoute(channel, address, reply_to), language="en",
        subject="[SD-2026-000001] Re: VPN", body="Try again.\n", message_id="<ticket-x-7@desk.test>",
        thread=thread or [],
    )  # fmt: skip


def test_a_russian_requester_gets_the_russian_acknowledgement_with_the_number() -> None:
    rendered = Templates().render("acme", "ru", "acknowledgement", CONTEXT)
    assert rendered.subject == "Ваше обращение принято: VPN"
    assert "SD-2026-000001" in rendered.body


def test_a_language_without_templates_falls_back_to_english() -> None:
    assert Templates().render("acme", "de", "closed", CONTEXT).subject == "Closed: VPN"


def test_a_tenants_own_template_wins_over_the_default_and_only_for_that_tenant(tmp_path: Path) -> None:
    (tmp_path / "acme" / "en").mkdir(parents=True)
    (tmp_path / "acme" / "en" / "closed.txt").write_text("Subject: Done with {{ number }}\n\nBye.\n")
    templates = Templates(tmp_path)
    assert templates.render("acme", "en", "closed", CONTEXT).subject == "Done with SD-2026-000001"
    assert templates.render("acme", "ru", "closed", CONTEXT).subject == "Закрыто: VPN", "ru default over acme's en"
    assert templates.render("globex", "en", "closed", CONTEXT).subject == "Closed: VPN"


def test_a_template_naming_what_the_message_lacks_or_reaching_outside_the_sandbox_is_refused(tmp_path: Path) -> None:
    (tmp_path / "acme" / "en").mkdir(parents=True)
    (tmp_path / "acme" / "en" / "closed.txt").write_text("Subject: {{ nothing }}\n\nx\n")
    (tmp_path / "acme" / "en" / "resolved.txt").write_text("Subject: {{ title.__class__.__mro__ }}\n\nx\n")
    with pytest.raises(TemplateError, match="does not render"):
        Templates(tmp_path).render("acme", "en", "closed", CONTEXT)
    with pytest.raises(TemplateError, match="does not render"):
        Templates(tmp_path).render("acme", "en", "resolved", CONTEXT)
    with pytest.raises(TemplateError, match="no template"):
        Templates(tmp_path).render("..", "en", "unknown-kind", CONTEXT)


def test_a_reply_mail_answers_the_customers_message_and_carries_the_thread() -> None:
    mail = build_mail(message(thread=["<ticket-x-3@desk.test>"]), "support@acme.test")
    assert mail["Message-ID"] == "<ticket-x-7@desk.test>"
    assert mail["In-Reply-To"] == "<cust-1@example.com>"
    assert mail["References"] == "<cust-1@example.com> <ticket-x-3@desk.test>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert (mail["From"], mail["To"]) == ("support@acme.test", "jane@example.com")


def test_an_acknowledgement_is_an_auto_reply_and_without_a_customer_message_threads_on_ours() -> None:
    assert build_mail(message("acknowledgement"), "s@a.test")["Auto-Submitted"] == "auto-replied"
    mail = build_mail(message(reply_to=None, thread=["<a@d>", "<b@d>"]), "s@a.test")
    assert (mail["In-Reply-To"], mail["References"]) == ("<b@d>", "<a@d> <b@d>")


def test_a_telegram_reply_answers_the_customers_message_in_their_chat() -> None:
    request = send_message_request(message(channel="telegram", address="4711", reply_to="99"))
    assert request["chat_id"] == "4711"
    assert request["reply_parameters"]["message_id"] == 99
    assert request["text"].startswith("[SD-2026-000001] Re: VPN")


def kinds_notified(commands: list[str]) -> list[str]:
    with acting(Cause("acme", "agent-7", "c", "c")):
        ticket = Ticket.open(uuid4(), "SD-2026-000001", "VPN", "d", "jane", "email", "network", "incident", "P2",
                             [], {})  # fmt: skip
        run = {
            "agent reply": lambda: ticket.add_comment("c1", "Try again", True, "agent-7", "api"),
            "internal note": lambda: ticket.add_comment("c2", "hmm", False, "agent-7", "api"),
            "customer comment": lambda: ticket.add_comment("c3", "still broken", True, "jane", "email"),
            "pending on customer": lambda: ticket.mark_pending(WaitingFor.CUSTOMER, datetime.now(UTC), "logs?"),
            "resolve": lambda: ticket.resolve("fixed", "fixed"),
            "close": lambda: ticket.close("done"),
        }
        for command in commands:
            run[command]()
    found = [notable(event, "jane") for event in ticket.collect_events() if isinstance(event, Ticket.Event)]
    return [kind for kind, _ in filter(None, found)]


def test_the_requester_hears_of_opening_agent_replies_waiting_resolution_survey_and_closing() -> None:
    commands = ["agent reply", "internal note", "customer comment", "pending on customer", "resolve", "close"]
    assert kinds_notified(commands) == ["acknowledgement", "reply", "pending", "resolved", "survey", "closed"]
