"""The satisfaction survey's e-mail links to the tenant's portal, where one click rates the request."""

from __future__ import annotations

import uuid
from pathlib import Path

from services.chassis.runtime.settings import Settings
from services.intake.notifications.compose import Composer
from services.intake.notifications.templates import Templates
from services.intake.people.conversations import Conversations, ReplyRoute
from services.intake.people.finder import People
from services.intake.tickets.cause import Cause
from services.intake.tickets.form import TicketForm
from tests.privacy import desk_intake


def test_the_survey_mail_links_to_the_rating_page_of_the_tickets_own_portal(tmp_path: Path) -> None:
    settings = Settings(
        persistence="sqlite", data_dir=tmp_path, mailboxes={"s@acme.test": {"tenant": "acme"}},
        portal_url="https://desk.example/t/{tenant}/",
    )  # fmt: skip
    intake = desk_intake(settings)
    people, conversations = People(intake, intake.personal), Conversations(intake, intake.personal)
    jane = people.requester_for("acme", "email", "jane@example.com", "Jane", "en")
    ticket_id = uuid.uuid4()
    form = TicketForm("VPN", "drops", jane, "portal", "network", "incident", "P2")
    intake.open_ticket(ticket_id, form, Cause("acme", "agent-7", "c", "c"))
    conversations.remember("acme", ticket_id, jane, "email", ["<c1@x>"], ReplyRoute("email", "jane@example.com"))
    composer = Composer(intake, people, conversations, intake.personal, Templates(), settings)
    delivery = {"tenant": "acme", "ticket_id": str(ticket_id), "channel": "email", "details": "{}",
                "kind": "survey", "message_key": "survey"}  # fmt: skip
    survey = composer.compose(delivery, [])
    assert f"https://desk.example/t/acme/tickets/{ticket_id}/rating" in survey.body
