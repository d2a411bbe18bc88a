"""Keyed requests in intake's application, on a SQLite store: the record of a keyed request is
saved with its effect, so a retry is recognised even by a process started after a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock
from uuid import uuid4

import pytest
from fastapi import FastAPI

from services.chassis.runtime.settings import Settings
from services.chassis.storage.idempotency import IdempotencyKeyReusedError, KeyedRequest
from services.intake.http import attachments as api_attachments
from services.intake.http import tickets as api_tickets
from services.intake.http import work as api_work
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.form import TicketForm
from tests.privacy import desk_intake


def keyed_cause(key: str, fingerprint: str, actor: str = "agent-1") -> Cause:
    request = KeyedRequest.of("acme", actor, key, fingerprint)
    return Cause("acme", actor, f"corr-{uuid4()}", f"http:{uuid4()}", request=request)


def form() -> TicketForm:
    return TicketForm("Printer jammed", "It beeps.", "req-1", "email", "hardware", "incident", "P3")


def test_a_retried_comment_is_recognised_by_a_process_started_after_a_crash(tmp_path: Path) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    first: Intake = desk_intake(settings)
    ticket_id = first.open_ticket(uuid4(), form(), Cause("acme", "agent-1", "c", "x")).ticket.id
    first.comment(ticket_id, keyed_cause("reply-1", "print-a"), "c-1", "Which printer?", True, "api", staff=True)
    first.close()  # the answer never reached the client

    restarted: Intake = desk_intake(settings)
    retried = restarted.comment(
        ticket_id, keyed_cause("reply-1", "print-a"), "c-2", "Which printer?", True, "api", staff=True
    )

    assert list(retried.comments) == ["c-1"]
    with pytest.raises(IdempotencyKeyReusedError):
        restarted.comment(ticket_id, keyed_cause("reply-1", "print-b"), "c-3", "Another", True, "api", staff=True)
    other = restarted.comment(
        ticket_id, keyed_cause("reply-1", "print-a", "agent-2"), "c-4", "Mine", True, "api", staff=True
    )
    assert list(other.comments) == ["c-1", "c-4"], "another caller's key of the same name is theirs"
    restarted.close()


def test_a_keyed_opening_is_found_again_and_another_request_under_its_key_refused(tmp_path: Path) -> None:
    intake: Intake = desk_intake(Settings(persistence="sqlite", data_dir=tmp_path))
    cause = keyed_cause("form-1", "print-a")
    assert cause.request is not None
    opened = intake.open_ticket(cause.request.derived("ticket"), form(), cause)
    again = intake.open_ticket(cause.request.derived("ticket"), form(), keyed_cause("form-1", "print-a"))

    assert (opened.created, again.created, again.ticket.id) == (True, False, opened.ticket.id)
    with pytest.raises(IdempotencyKeyReusedError):
        intake.open_ticket(cause.request.derived("ticket"), form(), keyed_cause("form-1", "print-b"))
    intake.close()


def test_a_retried_opening_the_desk_would_now_refuse_is_answered_as_the_first_time(tmp_path: Path) -> None:
    intake: Intake = desk_intake(Settings(persistence="sqlite", data_dir=tmp_path))
    opened = intake.open_ticket(None, form(), keyed_cause("form-2", "print-a"))
    intake.define_field("acme", "asset", "Asset tag", "text", True, [], "admin-1")  # a required field since

    again = intake.open_ticket(None, form(), keyed_cause("form-2", "print-a"))

    assert (opened.created, again.created, again.ticket.id) == (True, False, opened.ticket.id)
    with pytest.raises(IdempotencyKeyReusedError):
        intake.open_ticket(None, form(), keyed_cause("form-2", "print-b"))
    intake.close()


def test_every_post_on_a_ticket_documents_the_idempotency_key() -> None:
    app = FastAPI()
    for router in (api_tickets.router(MagicMock()), api_work.router(MagicMock()),
                   api_attachments.router(MagicMock(), MagicMock())):  # fmt: skip
        app.include_router(router)
    posts = {path: op["post"] for path, op in app.openapi()["paths"].items() if "post" in op}

    def documents_the_key(post: dict[str, Any]) -> bool:
        return any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in post["parameters"])

    undocumented = [path for path, post in posts.items() if not documents_the_key(post)]
    assert len(posts) == 14
    assert undocumented == []
