"""Files attached to an internal note are the staff's: a customer neither sees, lists nor downloads them,
on real PostgreSQL and Kafka with intake running as its own process."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.client import headers, ticket_form
from tests.harness import Desk

ROTA = b"the on-call rota of the second line, not for customers\n" * 20
SCREENSHOT = b"\x89PNG\r\n\x1a\n the customer's screenshot of the error" * 10


@pytest.fixture
def intake(desk: Desk) -> str:
    for name in ("routing", "sla", "analytics"):
        desk.env[f"SERVICEDESK_{name.upper()}_URL"] = desk.service(name).start().url
    return desk.service("intake").start().url


def test_a_customer_never_lists_or_downloads_a_file_attached_to_an_internal_note(desk: Desk, intake: str) -> None:
    customer = f"c-{uuid.uuid4().hex[:10]}"
    staff, theirs = headers("acme"), headers("acme", customer, roles=("customer",))
    with httpx.Client(base_url=intake, timeout=20.0) as client:
        opened = client.post("/v1/tickets", json=ticket_form(requester_id=customer), headers=staff)
        assert opened.status_code == 201, opened.text
        ticket = f"/v1/tickets/{opened.json()['id']}"
        note = client.post(f"{ticket}/comments", json={"body": "rota attached", "public": False}, headers=staff)
        assert note.status_code == 201, note.text
        on_note = {"filename": "rota.txt", "comment_id": note.json()["comments"][-1]["id"]}
        rota = client.post(f"{ticket}/attachments", params=on_note, content=ROTA,
                           headers=staff | {"Content-Type": "text/plain"})  # fmt: skip
        assert rota.status_code == 201, rota.text
        shot = client.post(f"{ticket}/attachments", params={"filename": "error.png"}, content=SCREENSHOT,
                           headers=theirs | {"Content-Type": "image/png"})  # fmt: skip
        assert shot.status_code == 201, shot.text

        listed_for_staff = client.get(f"{ticket}/attachments", headers=staff).json()["attachments"]
        listed_for_customer = client.get(f"{ticket}/attachments", headers=theirs).json()["attachments"]
        assert {a["filename"] for a in listed_for_staff} == {"rota.txt", "error.png"}
        assert [a["filename"] for a in listed_for_customer] == ["error.png"]
        on_the_ticket = client.get(ticket, headers=theirs).json()["attachments"]
        assert [a["filename"] for a in on_the_ticket] == ["error.png"]
        assert client.get(rota.headers["location"], headers=staff).content == ROTA
        refused = client.get(rota.headers["location"], headers=theirs)
        assert refused.status_code == 404, refused.text
        assert ROTA not in refused.content
        assert client.get(shot.headers["location"], headers=theirs).content == SCREENSHOT
