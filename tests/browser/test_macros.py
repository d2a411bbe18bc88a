"""Macros in the browser: an agent applies one from the ticket's reply box with the keyboard alone, or inserts
its text to edit; their macros have a screen of their own. Axe finds nothing serious; 375 px wide works."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Workspace, screenshots, serious_violations
from tests.browser.test_workspace import ANN, a_routed_ticket, ok
from tests.client import eventually

VPN_REPLY = "We restarted the VPN gateway for {{ ticket.number }}: please try again. {{ agent.name }}"


def ann_has_macros(workspace: Workspace) -> None:
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        ok(ann.post("/v1/macros", json={"title": "Ask for the logs", "body": {"en": "Could you send the logs?"}}))
        ok(ann.post("/v1/macros", json={
            "title": "VPN gateway restarted", "body": {"en": VPN_REPLY, "ru": "Шлюз VPN перезапущен."},
            "actions": {"status": "pending", "status_reason": "waiting for the customer to try again"},
        }))  # fmt: skip
        ok(ann.post("/v1/macros", json={"title": "VPN escalation note", "body": {"en": "Needs the network team."},
                                        "visibility": "internal"}))  # fmt: skip


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_an_agent_applies_a_macro_from_the_reply_box_with_the_keyboard(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "VPN gateway unreachable")
    ann_has_macros(workspace)
    page = workspace.page()
    workspace.sign_in(page, ANN)
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    number = page.locator(".number").inner_text()
    options = page.get_by_role("group", name="Macros")
    expect(options.get_by_role("radio")).to_have_count(3)
    assert serious_violations(page) == []

    page.get_by_label("Find a macro").press_sequentially("vpn")
    expect(options.get_by_role("radio")).to_have_count(2)
    expect(options.get_by_role("radio", name="VPN gateway restarted")).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(options.get_by_role("radio", name="VPN escalation note")).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(options.get_by_role("radio", name="VPN gateway restarted")).to_be_checked()
    expect(page.get_by_label("Find a macro")).to_be_focused()
    page.keyboard.press("Enter")

    reply = page.locator(".message.reply").filter(has_text="We restarted the VPN gateway")
    expect(reply).to_contain_text(f"for {number}: please try again.")
    expect(page.locator(".facts .status")).to_have_text("pending")
    with workspace.api("admin-1", ("admin",)) as admin:
        history = ok(admin.get(f"/v1/tickets/{ticket_id}/history"))["events"]
    applied = next(e for e in history if e["event"] == "macro_applied")
    assert applied["actor"] == "agent-ann"
    assert [e["event"] for e in history][-3:] == ["macro_applied", "comment_added", "marked_pending"]
    assert serious_violations(page) == []


def test_an_agent_inserts_a_macros_text_to_edit_it_before_sending(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Printer jams")
    ann_has_macros(workspace)
    page = workspace.page(width=375, height=740)
    workspace.sign_in(page, ANN)
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    page.get_by_role("radio", name="VPN escalation note").check()
    page.get_by_role("button", name="Insert").click()

    expect(page.get_by_label("Message")).to_have_value("Needs the network team.")
    expect(page.get_by_role("radio", name="Internal note", exact=True)).to_be_checked()
    assert no_sideways_scroll(page)
    with workspace.api("admin-1", ("admin",)) as admin:
        assert ok(admin.get(f"/v1/tickets/{ticket_id}"))["comments"] == []  # inserting sends nothing
    assert serious_violations(page) == []


def test_an_agent_keeps_their_own_macros_on_a_screen_of_their_own(workspace: Workspace) -> None:
    page = workspace.page(width=375, height=740)
    workspace.sign_in(page, ANN)
    page.get_by_role("link", name="Macros").click()
    expect(page.get_by_role("heading", name="My macros")).to_be_visible()
    page.get_by_label("Title").fill("Broken greeting")
    page.get_by_label("Reply in English").fill("Hello {{ requester.nickname }}")
    page.get_by_role("button", name="Create macro").click()

    expect(page.locator("#body-en-error")).to_contain_text("does not render")
    expect(page.get_by_label("Reply in English")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Reply in English").fill("Hello {{ requester.name }}")
    page.get_by_label("Reply in Russian").fill("Здравствуйте, {{ requester.name }}")
    page.get_by_label("Status", exact=True).select_option("resolved")
    page.get_by_role("button", name="Create macro").click()

    expect(page.get_by_role("heading", name="Broken greeting")).to_be_visible()
    page.get_by_label("Title").fill("Greeting")
    page.get_by_role("button", name="Save macro").click()
    expect(page.get_by_text("Version 2")).to_be_visible()
    assert no_sideways_scroll(page)
    assert serious_violations(page) == []
    screenshots(page, "macro-editor")
    page.get_by_role("button", name="Retire macro").click()
    expect(page.get_by_role("heading", name="My macros")).to_be_visible()
    expect(page.get_by_text("No macros yet.")).to_be_visible()
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        eventually(lambda: ok(ann.get("/v1/macros"))["macros"], lambda found: found == [], timeout=5)
    assert serious_violations(page) == []
