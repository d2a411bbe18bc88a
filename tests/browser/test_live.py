"""The ticket page live: what happens to a ticket shows on every open page of it without a reload, and
agents see who else is on it, each person only what they may see."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests.browser.conftest import Workspace, screenshots, serious_violations
from tests.browser.test_workspace import ANN, KIM, a_routed_ticket, ok

BORIS = "Sign in as Boris (agent, first-line)"
# Every message of the page's event streams, as the browser received it (before htmx reads it).
RECORDED = """
window.__received = [];
const Native = window.EventSource;
window.EventSource = class extends Native {
  constructor(url, options) {
    super(url, options);
    for (const kind of ["changed", "sla", "viewers", "message"]) {
      this.addEventListener(kind, (event) => window.__received.push(`${kind}: ${event.data}`));
    }
  }
};
"""


def a_live_page(workspace: Workspace, button: str, ticket_id: str) -> Page:
    """`button`'s person on the ticket's page, its stream open (it says the SLA state first)."""
    page = workspace.page()
    page.add_init_script(RECORDED)
    workspace.sign_in(page, button)
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    page.wait_for_function("window.__received.length > 0")
    page.evaluate("window.__loaded = true")  # gone if the page reloads
    return page


def received(page: Page) -> str:
    return json.dumps(page.evaluate("window.__received"))


def test_an_agent_sees_the_customer_answer_arrive_live(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Mail stuck in the outbox")
    page = a_live_page(workspace, ANN, ticket_id)
    expect(page.locator(".facts .status")).to_have_text("new")

    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        ok(
            kim.post(
                f"/v1/tickets/{ticket_id}/comments", json={"body": "It is still stuck after a restart.", "public": True}
            )
        )
    expect(page.locator("#thread")).to_contain_text("It is still stuck after a restart.")
    with workspace.api("admin-1", ("admin",)) as admin:
        ok(admin.post(f"/v1/tickets/{ticket_id}/start-work", json={"reason": "looking into it"}))
        ok(admin.put(f"/v1/tickets/{ticket_id}/assignment", json={"group_id": "first-line", "agent_id": "agent-boris",
                                                                 "reason": "Boris knows the mail server"}))  # fmt: skip
    expect(page.locator(".facts .status")).to_have_text("open")
    expect(page.locator(".facts")).to_contain_text("agent-boris")
    expect(page.locator("#history")).to_contain_text("Boris knows the mail server")
    assert page.evaluate("window.__loaded") is True, "no reload: the blocks were swapped in place"
    assert serious_violations(page) == []


def test_a_message_arriving_live_leaves_the_agents_half_typed_split_open_as_it_was(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Printer and scanner both down")
    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        ok(kim.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "The scanner jams too.", "public": True}))
    page = a_live_page(workspace, ANN, ticket_id)
    message = page.locator(".message").filter(has_text="The scanner jams too.")
    message.get_by_text("Split into a new ticket").click()
    message.get_by_label("Title of the new ticket").fill("Scanner jams")

    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        ok(kim.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "And the printer smokes.", "public": True}))
    expect(page.locator("#thread")).to_contain_text("And the printer smokes.")
    expect(message.get_by_label("Title of the new ticket")).to_be_visible()
    expect(message.get_by_label("Title of the new ticket")).to_have_value("Scanner jams")
    assert page.evaluate("window.__loaded") is True


def test_a_second_agent_sees_the_first_one_replying(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Laptop will not charge")
    boris = a_live_page(workspace, BORIS, ticket_id)
    ann = a_live_page(workspace, ANN, ticket_id)
    viewers = boris.locator("#viewers")
    expect(viewers).to_contain_text("Ann", timeout=5_000)
    expect(viewers).to_contain_text("смотрит")  # Boris reads Russian: "Ann Archer is viewing"
    expect(ann.locator("#viewers")).to_contain_text("Boris")
    expect(ann.locator("#viewers")).not_to_contain_text("Ann")  # who else, never oneself

    ann.get_by_label("Message").click()
    ann.get_by_label("Message").press_sequentially("Have you tried another ")
    expect(viewers).to_contain_text("отвечает", timeout=3_000)  # within about a second on a busy machine
    assert serious_violations(boris) == []
    screenshots(boris, "ticket-live-viewer", "ru")

    ann.close()  # the page says it left as it goes
    expect(viewers).not_to_contain_text("Ann", timeout=10_000)


def test_a_customer_never_receives_an_internal_note_live(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Invoice shows the wrong address")
    page = a_live_page(workspace, KIM, ticket_id)
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        ok(ann.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "Billing exported it wrong", "public": False}))
        ok(
            ann.post(
                f"/v1/tickets/{ticket_id}/comments", json={"body": "A corrected invoice is on its way.", "public": True}
            )
        )
        ok(ann.put(f"/v1/tickets/{ticket_id}/viewers/me", json={"activity": "replying"}))
    expect(page.locator("#thread")).to_contain_text("A corrected invoice is on its way.")
    page.wait_for_timeout(1_500)  # anything more the stream had to say has arrived by now
    assert "Billing exported" not in page.content()
    assert "Billing exported" not in received(page)
    assert "agent-ann" not in received(page), "a customer is told of no viewer"
    expect(page.locator("#viewers")).to_have_count(1)
    expect(page.locator("#viewers")).to_be_empty()
    assert page.evaluate("window.__loaded") is True


def test_an_open_page_catches_up_after_the_web_service_is_killed(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Projector in room 4 flickers")
    page = a_live_page(workspace, ANN, ticket_id)
    workspace.web.kill()  # SIGKILL: the page's stream breaks mid-line
    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        ok(kim.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "It flickers on HDMI only.", "public": True}))
    workspace.web.start()
    expect(page.locator("#thread")).to_contain_text("It flickers on HDMI only.", timeout=60_000)
    assert page.evaluate("window.__loaded") is True, "the page reconnected by itself and caught up"
