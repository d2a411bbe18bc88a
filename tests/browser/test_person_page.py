"""A customer's page in the workspace: the ticket's requester links to it; it shows every address,
the organisation and notes, and the tickets of every channel (those of a person merged into them too);
on a phone, in Russian, and clean for axe."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Workspace, serious_violations
from tests.browser.test_workspace import ANN, ok


def test_an_agent_follows_the_requester_to_their_page_with_every_channels_tickets(workspace: Workspace) -> None:
    with workspace.api("admin-1", ("admin",)) as admin:
        northwind = ok(admin.post("/v1/organisations", json={"name": "Northwind", "domains": ["northwind.example"]}))
        kim = ok(admin.post("/v1/people", json={
            "name": "Kim Nakamura", "notes": "Prefers Telegram", "organisation_id": northwind["id"],
            "addresses": [{"channel": "email", "address": "kim@northwind.example"}]}))  # fmt: skip
        telegram = [{"channel": "telegram", "address": "4711"}]
        also_kim = ok(admin.post("/v1/people", json={"name": "Kim N", "addresses": telegram}))
        by_mail = ok(admin.post("/v1/tickets", json={"title": "Printer jams", "description": "again",
                                                     "channel": "email", "requester_id": kim["id"]}))  # fmt: skip
        ok(admin.post("/v1/tickets", json={"title": "Router blinks", "description": "red",
                                           "channel": "messenger", "requester_id": also_kim["id"]}))  # fmt: skip
        ok(admin.post(f"/v1/people/{kim['id']}/merge", json={"merged_id": also_kim["id"]}))

    page = workspace.page()
    workspace.sign_in(page, ANN)
    page.goto(f"{workspace.url}/tickets/{by_mail['id']}")
    page.get_by_role("link", name=kim["id"]).click()
    expect(page.get_by_role("heading", name="Kim Nakamura")).to_be_visible()
    profile = page.get_by_role("region", name="Profile")
    for shown in ("kim@northwind.example", "4711", "Northwind", "Prefers Telegram"):
        expect(profile).to_contain_text(shown)
    tickets = page.get_by_role("region", name="Tickets")
    expect(tickets.get_by_role("link", name="Printer jams")).to_be_visible()
    expect(tickets.get_by_role("link", name="Router blinks")).to_be_visible()
    assert serious_violations(page) == []

    phone = workspace.page(locale="ru-RU", width=375, height=740)
    workspace.sign_in(phone, "Sign in as Boris (agent, first-line)")  # he reads Russian
    phone.goto(f"{workspace.url}/people/{kim['id']}")
    expect(phone.get_by_role("heading", name="Профиль")).to_be_visible()
    expect(phone.get_by_role("link", name="Router blinks")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375, "nothing wider than the phone"
    assert serious_violations(phone) == []
