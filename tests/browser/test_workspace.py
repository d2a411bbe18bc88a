"""Agents, supervisors and customers at work in the browser: signing in, queues, the ticket page."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import FilePayload, expect

from tests.browser.conftest import Workspace, screenshot, screenshots, serious_violations
from tests.client import eventually

ANN = "Sign in as Ann (agent, first-line)"
KIM = "Sign in as Kim (customer, northwind)"
GUS = "Sign in as Gus (agent, support)"


def ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code < 300, answer.text
    body: dict[str, Any] = answer.json() if answer.content else {}
    return body


def a_routed_ticket(workspace: Workspace, title: str = "VPN drops every hour") -> str:
    """Ann of first-line online, and a ticket of Kim's that routing gives her."""
    with workspace.api("admin-1", ("admin",)) as admin:
        ok(admin.put("/v1/routing/groups/first-line", json={"tier": 1, "default": True}))
        ok(admin.put("/v1/routing/agents/agent-ann", json={"groups": ["first-line"], "capacity": 5}))
        ok(admin.put("/v1/routing/agents/agent-ann/presence", json={"presence": "online"}))
    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        opened = ok(
            kim.post(
                "/v1/tickets",
                json={"title": title, "description": "Since Monday, at :00 sharp.", "requester_id": "customer-kim"},
            )
        )
    ticket_id = str(opened["id"])
    with workspace.api("admin-1", ("admin",)) as admin:
        eventually(
            lambda: ok(admin.get(f"/v1/tickets/{ticket_id}")), lambda t: t["agent_id"] == "agent-ann", timeout=30
        )
    return ticket_id


def test_an_agent_signs_in_finds_the_ticket_routed_to_them_replies_and_resolves_it(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace)
    page = workspace.page()
    workspace.sign_in(page, ANN)
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "queue-desktop-en")
    page.get_by_role("link", name="VPN drops every hour").click()
    expect(page.get_by_role("heading", name="VPN drops every hour")).to_be_visible()
    expect(page.get_by_text("first-line", exact=True)).to_be_visible()
    expect(page.locator(".facts .why")).to_contain_text("no rule matched: the default group")  # in routing's words
    page.get_by_label("Message").fill("Please restart the VPN client and tell me if it still drops.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Please restart the VPN client")).to_be_visible()
    page.get_by_label("Message").fill("Customer on the old client version.")
    page.get_by_label("Internal note").check()
    page.get_by_role("button", name="Send").click()
    note = page.locator(".message.note").filter(has_text="old client version")
    expect(note).to_contain_text("Internal note")
    assert serious_violations(page) == []
    screenshot(page, "ticket-desktop-en")
    page.get_by_label("New status").select_option("resolve")
    page.get_by_role("region", name="Status").get_by_label("Reason").fill("the client update fixed it")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator(".facts .status")).to_have_text("resolved")
    with workspace.api("admin-1", ("admin",)) as admin:
        ticket = ok(admin.get(f"/v1/tickets/{ticket_id}"))
    assert ticket["status"] == "resolved"
    history = ok(workspace.api("admin-1", ("admin",)).get(f"/v1/tickets/{ticket_id}/history"))
    assert any(e["actor"] == "agent-ann" and e["event"] == "resolved" for e in history["events"])


def test_a_customers_browser_never_shows_an_internal_note(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Printer on floor 3")
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        ok(ann.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "We are on it.", "public": True}))
        ok(ann.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "Toner supplier late again", "public": False}))
    page = workspace.page()
    workspace.sign_in(page, KIM)
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    page.get_by_role("link", name="Printer on floor 3").click()
    expect(page.get_by_text("We are on it.")).to_be_visible()
    assert "Toner supplier" not in page.content()
    expect(page.get_by_label("Internal note")).to_have_count(0)


def test_a_person_of_another_organisations_desk_is_refused_at_sign_in(workspace: Workspace) -> None:
    page = workspace.page()
    workspace.sign_in(page, GUS)
    expect(page.get_by_role("alert")).to_have_text("Your account belongs to another organisation's desk.")
    page.goto(f"{workspace.url}/queues/mine")
    expect(page).to_have_url(re.compile(r"/authorize\?"))  # no session was made: sign in again


def test_a_form_posted_without_its_csrf_token_is_refused(workspace: Workspace) -> None:
    page = workspace.page()
    workspace.sign_in(page, ANN)
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
    forged = page.request.post(f"{workspace.url}/signout", form={"csrf_token": "guessed"})
    assert forged.status == 403
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()


def test_the_workspace_speaks_russian_to_a_russian_agent(workspace: Workspace) -> None:
    page = workspace.page(locale="ru-RU")
    workspace.sign_in(page, "Sign in as Boris (agent, first-line)")
    expect(page.get_by_role("heading", name="Мои заявки")).to_be_visible()
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "ru"
    screenshot(page, "queue-desktop-ru")


def test_on_a_phone_an_agent_reads_the_queue_as_a_list_and_replies(workspace: Workspace) -> None:
    a_routed_ticket(workspace, "Mail on the phone")
    page = workspace.page(width=375, height=740)
    workspace.sign_in(page, ANN)
    link = page.get_by_role("link", name="Mail on the phone")
    expect(link).to_be_visible()
    screenshot(page, "queue-phone-en")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "nothing wider than the phone"
    link.click()
    page.get_by_label("Message").fill("Which phone do you use?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Which phone do you use?")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert serious_violations(page) == []
    screenshot(page, "ticket-phone-en")


def test_an_agent_works_a_queue_with_the_keyboard_alone(workspace: Workspace) -> None:
    a_routed_ticket(workspace, "Keyboard only")
    page = workspace.page()
    workspace.sign_in(page, ANN)
    expect(page.get_by_role("link", name="Keyboard only")).to_be_visible()
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Keyboard only")).to_be_visible()
    page.keyboard.press("n")
    page.keyboard.type("Noted without a mouse")
    page.keyboard.press("Tab")  # to the choice of who sees it, already set by n
    expect(page.get_by_label("Internal note")).to_be_checked()
    page.get_by_role("button", name="Send").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".message.note").filter(has_text="Noted without a mouse")).to_be_visible()
    page.keyboard.press("/")
    page.keyboard.type("status:new keyboard")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Keyboard only")).to_be_visible()


def test_an_agent_goes_away_from_the_header_and_routing_knows(workspace: Workspace) -> None:
    a_routed_ticket(workspace, "Before the break")
    page = workspace.page()
    workspace.sign_in(page, ANN)
    presence = page.get_by_label("Presence")
    expect(presence).to_have_value("online")
    with page.expect_response(lambda answer: answer.url.endswith("/presence") and answer.request.method == "POST"):
        presence.select_option("away")
    expect(page.get_by_label("Presence")).to_have_value("away")
    with workspace.api("admin-1", ("admin",)) as admin:
        read = lambda: ok(admin.get("/v1/routing/agents/agent-ann"))  # noqa: E731
        eventually(read, lambda agent: agent["presence"] == "away", timeout=10)


def test_a_supervisor_sees_who_is_online_and_the_backlog_each_number_leading_to_its_tickets(
    workspace: Workspace,
) -> None:
    a_routed_ticket(workspace, "Counted on the board")
    page = workspace.page()
    workspace.sign_in(page, "Sign in as Sofia (supervisor, first-line, second-line)")  # she reads Russian
    page.get_by_role("link", name="Доска").click()
    agents = page.get_by_role("table").first
    expect(agents.get_by_role("row").filter(has_text="agent-ann")).to_contain_text("В сети")
    by_group = page.locator("table.counts").filter(has_text="По группе")
    expect(by_group.get_by_role("row").filter(has_text="first-line")).to_contain_text("1")
    assert serious_violations(page) == []
    by_group.get_by_role("link", name="1").click()
    expect(page.get_by_role("link", name="Counted on the board")).to_be_visible()


PIXEL = bytes.fromhex(  # a 1x1 PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2273ce40000000049454e44ae426082"
)


def test_an_agent_sets_a_ticket_pending_attaches_a_screenshot_and_reads_its_history_as_of_any_moment(
    workspace: Workspace,
) -> None:
    ticket_id = a_routed_ticket(workspace, "Screen goes black")
    page = workspace.page()
    workspace.sign_in(page, ANN)
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    page.get_by_label("Attach a file").set_input_files(
        files=FilePayload(name="screen.png", mimeType="image/png", buffer=PIXEL)
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("link", name="screen.png")).to_be_visible()
    expect(page.get_by_role("img", name="screen.png")).to_be_visible()
    download = page.request.get(f"{workspace.url}/tickets/{ticket_id}/attachments/" +
                                page.get_by_role("link", name="screen.png").get_attribute("href").rsplit("/", 1)[1])  # type: ignore[union-attr]  # fmt: skip
    assert download.body() == PIXEL
    page.get_by_label("New status").select_option("pending")
    page.get_by_role("region", name="Status").get_by_label("Reason").fill("asked for the monitor model")
    page.get_by_label("Remind me at").fill("2031-01-15T10:00")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator(".facts .status")).to_have_text("pending")
    expect(page.get_by_role("status").filter(has_text="The history is intact")).to_be_visible()
    history = page.locator("ol.history")
    expect(history).to_contain_text("asked for the monitor model")
    expect(history.locator("li").filter(has_text="agent-ann").first).to_be_visible()
    history.locator("li").first.get_by_role("link", name="as of then").click()
    expect(page.get_by_role("status").filter(has_text="As it was at")).to_be_visible()
    expect(page.locator(".facts .status")).to_have_text("new")
    expect(page.get_by_role("button", name="Send")).to_have_count(0)


def test_a_wrong_assignment_is_refused_with_the_reason_beside_the_field(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Needs second line")
    page = workspace.page()
    workspace.sign_in(page, ANN)
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    page.get_by_label("Group", exact=True).fill("")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("#group_id-error")).to_have_text("Name the group.")


def test_an_admin_sets_up_a_group_and_an_agent_and_a_wrong_value_is_named_beside_its_field(
    workspace: Workspace,
) -> None:
    page = workspace.page()
    workspace.sign_in(page, "Sign in as Ada (admin)")
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Groups and agents").click()
    page.get_by_label("Group name").fill("billing")
    page.get_by_label("Tier").select_option("2")
    page.get_by_role("button", name="Save group").click()
    expect(page.get_by_role("row").filter(has_text="billing")).to_contain_text("2")
    page.get_by_label("Agent (their sign-in name)").fill("agent-boris")
    page.get_by_label("Groups (comma-separated)").fill("billing")
    page.get_by_label("Skills (comma-separated)").fill("billing, ru")
    page.get_by_role("button", name="Save agent").click()
    agents = page.get_by_role("region", name="Agents")
    expect(agents.get_by_role("row").filter(has_text="agent-boris")).to_contain_text("billing, ru")
    page.get_by_label("Agent (their sign-in name)").fill("agent-vera")
    page.get_by_label("Groups (comma-separated)").fill("")
    page.get_by_role("button", name="Save agent").click()
    expect(page.locator("#groups-error")).to_be_visible()
    assert serious_violations(page) == []
    screenshots(page, "admin-routing")
    with workspace.api("admin-1", ("admin",)) as admin:
        history = ok(admin.get("/v1/routing/agents/agent-boris"))
    assert history["skills"] == ["billing", "ru"]


def test_an_agent_raises_the_priority_of_two_tickets_at_once(workspace: Workspace) -> None:
    first = a_routed_ticket(workspace, "Outage in hall A")
    second = a_routed_ticket(workspace, "Outage in hall B")
    page = workspace.page()
    workspace.sign_in(page, ANN)
    page.get_by_role("checkbox", name=re.compile(r"Select SD-\d{4}-000001")).check()
    page.get_by_role("checkbox", name=re.compile(r"Select SD-\d{4}-000002")).check()
    page.get_by_label("With the selected").select_option("priority")
    page.get_by_label("Value").fill("P1")
    page.get_by_label("Reason", exact=True).fill("one outage")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status").locator("li.done")).to_have_count(2)
    with workspace.api("admin-1", ("admin",)) as admin:
        assert {ok(admin.get(f"/v1/tickets/{t}"))["priority"] for t in (first, second)} == {"P1"}


def test_an_agent_stays_signed_in_and_loses_no_reply_when_the_web_service_is_killed(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Survives a crash")
    page = workspace.page()
    workspace.sign_in(page, ANN)
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    page.get_by_label("Message").fill("Written before the crash")
    workspace.web.kill()  # SIGKILL: no goodbye, no flush
    # Meanwhile the page asks for its ticket again, as it does on a live event (one the crash came after): the
    # browser must not keep the gateway's answer as the page to go back to.
    with page.expect_response(lambda answer: answer.url.endswith(f"/tickets/{ticket_id}")) as refreshed:
        page.evaluate("htmx.ajax('GET', location.pathname, {source: '#live', swap: 'none'})")
    assert refreshed.value.status == 503
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("does not answer right now")  # the gateway says so
    workspace.web.start()
    page.go_back()
    page.get_by_role("button", name="Send").click()  # the same form again, with the same idempotency key
    expect(page.get_by_text("Written before the crash")).to_have_count(1)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # the session outlived the process
