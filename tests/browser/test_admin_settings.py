"""An admin at the settings screens of the desk's API: custom fields, webhooks, API keys and the erasure
register; every change an API call recorded with the admin as its actor."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Workspace, screenshots, serious_violations
from tests.browser.test_workspace import ANN, a_routed_ticket, ok
from tests.channel_peers import Receiver
from tests.client import eventually

ADA = "Sign in as Ada (admin)"
SCREENS = ("/admin/fields", "/admin/webhooks", "/admin/api-keys", "/admin/erasures")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def at_settings(workspace: Workspace, screen: str, page: Page | None = None) -> Page:
    """Ada signed in, at the settings screen whose link names `screen`."""
    page = page or workspace.page()
    workspace.sign_in(page, ADA)
    page.get_by_role("banner").get_by_role("link", name="Admin").click()
    page.get_by_role("navigation", name="Admin").get_by_role("link", name=screen).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(screen)
    return page


def test_an_admin_defines_a_custom_field_and_an_agent_fills_it_on_a_ticket(workspace: Workspace) -> None:
    page = at_settings(workspace, "Custom fields")
    page.get_by_label("Key (small letters, digits and _)").fill("plan")
    page.get_by_label("Label agents see").fill("Customer plan")
    page.get_by_label("Type").select_option(label="One of a list")
    page.get_by_role("button", name="Save field").click()
    expect(page.locator("#choices-error")).to_have_text("List the choices, one a line.")
    page.get_by_label("Choices, one a line (for a list)").fill("basic\npro\nenterprise")
    page.get_by_role("button", name="Save field").click()
    row = page.get_by_role("row").filter(has_text="Customer plan")
    expect(row).to_contain_text("basic, pro, enterprise")
    assert serious_violations(page) == []
    screenshots(page, "admin-fields")
    page.get_by_role("link", name="Edit Customer plan").click()
    expect(page.get_by_label("Label agents see")).to_have_value("Customer plan")
    page.get_by_label("Label agents see").fill("Plan")
    page.get_by_role("button", name="Save field").click()
    expect(page.get_by_role("row").filter(has_text="plan")).to_contain_text("Plan")

    ticket_id = a_routed_ticket(workspace, "Which plan are we on?")
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        wrong = ann.patch(
            f"/v1/tickets/{ticket_id}", json={"reason": "from the contract", "custom_fields": {"plan": "gold"}}
        )
        assert wrong.status_code == 422
        assert "custom_fields.plan" in wrong.text
        ok(
            ann.patch(
                f"/v1/tickets/{ticket_id}", json={"reason": "from the contract", "custom_fields": {"plan": "pro"}}
            )
        )
        assert ok(ann.get(f"/v1/tickets/{ticket_id}"))["custom_fields"] == {"plan": "pro"}

    page.get_by_role("button", name="Delete Plan").click()
    expect(page.get_by_text("No custom fields yet.")).to_be_visible()
    with workspace.api("admin-1", ("admin",)) as admin:
        assert ok(admin.get("/v1/fields"))["fields"] == {}


def test_an_admin_adds_a_webhook_and_sees_its_deliveries(workspace: Workspace, receiver: Receiver) -> None:
    receiver.start()
    page = at_settings(workspace, "Webhooks")
    page.get_by_label("Receiver URL").fill("http://127.0.0.1:9/hooks")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#url-error")).to_contain_text("internal address")
    page.get_by_label("Allow receivers at private and loopback addresses").check()
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_label("Receiver URL").fill(receiver.url)
    page.get_by_label("Event types (comma-separated; none: every event)").fill("ticket.opened")
    page.get_by_role("button", name="Add webhook").click()
    secret = page.get_by_label("Signing secret of the new webhook").input_value()
    assert secret.startswith("whsec_")
    assert serious_violations(page) == []
    receiver.secret = secret

    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        opened = ok(
            kim.post(
                "/v1/tickets", json={"title": "Webhook me", "description": "please", "requester_id": "customer-kim"}
            )
        )

    hook = page.get_by_role("article", name=receiver.url)
    eventually(
        lambda: (page.goto(f"{workspace.url}/admin/webhooks"), hook.get_by_role("row").all_inner_texts())[1],
        lambda rows: any("ticket.opened" in row and "delivered" in row for row in rows),
        timeout=45,
        every=1.0,
    )
    assert secret not in page.content()  # shown once, in the answer that made it
    assert [p["subject"] for p in receiver.received] == [opened["id"]]
    assert serious_violations(page) == []
    screenshots(page, "admin-webhooks")

    hook.get_by_role("button", name=f"Delete {receiver.url}").click()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()


def test_an_admin_issues_an_api_key_sees_its_secret_once_and_revokes_it(workspace: Workspace) -> None:
    page = workspace.page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=workspace.url)
    at_settings(workspace, "API keys", page)
    page.get_by_label("What the key is for").fill("crm sync")
    page.get_by_label("It may do what this role does").select_option(label="Agent")
    page.get_by_label("Groups of an agent's key (comma-separated)").fill("first-line")
    page.get_by_role("button", name="Issue key").click()
    key = page.get_by_label("The new key").input_value()
    assert key.startswith("sdk_acme_")
    page.get_by_role("button", name="Copy").focus()
    page.keyboard.press("Enter")  # no mouse
    expect(page.locator("#new-key-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == key
    assert serious_violations(page) == []
    screenshots(page, "admin-api-keys")
    with httpx.Client(base_url=workspace.url, headers={"X-API-Key": key}, timeout=10.0) as system:
        assert system.get("/v1/tickets").status_code == 200

        page.goto(f"{workspace.url}/admin/api-keys")
        assert key not in page.content()
        row = page.get_by_role("row").filter(has_text="crm sync")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("live")
        page.get_by_role("button", name="Revoke crm sync").click()
        expect(page.locator(".error[role=alert]")).to_have_text("Say why the key is revoked.")
        page.get_by_label("Why revoke crm sync").fill("rotated after the audit")
        page.get_by_role("button", name="Revoke crm sync").click()
        expect(page.get_by_role("row").filter(has_text="crm sync")).to_contain_text("revoked")
        expect(page.get_by_role("row").filter(has_text="crm sync")).to_contain_text("rotated after the audit")
        eventually(lambda: system.get("/v1/tickets").status_code, lambda status: status == 401, timeout=15)
    with workspace.api("admin-1", ("admin",)) as admin:
        (listed,) = ok(admin.get("/v1/api-keys"))["api_keys"]
    assert (listed["issued_by"], listed["revoked_by"]) == ("admin-1", "admin-1")


def test_an_admin_erases_a_customer_and_the_register_says_so(workspace: Workspace) -> None:
    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        opened = ok(kim.post("/v1/tickets", json={"title": "My address changed", "description": "Now at 1 Elm St",
                                                  "requester_id": "customer-kim"}))  # fmt: skip
    kim_id = opened["requester_id"]  # the person of the directory her sign-in is
    page = at_settings(workspace, "Erasure register")
    expect(page.get_by_text("No one's data has been erased.")).to_be_visible()
    page.get_by_label("Person (their requester id)").fill("nobody-at-all")
    page.get_by_label("Why (e.g. the request's reference)").fill("GDPR-42")
    page.get_by_role("button", name="Review what is erased").click()
    expect(page.locator("#requester_id-error")).to_have_text("Nothing is held about this person.")
    page.get_by_label("Person (their requester id)").fill(kim_id)
    page.get_by_role("button", name="Review what is erased").click()
    confirmation = page.get_by_role("region", name="Erase this person's data?")
    expect(confirmation).to_contain_text(kim_id)
    expect(confirmation).to_contain_text("My address changed")
    assert serious_violations(page) == []
    confirmation.get_by_role("button", name="Erase for good").click()
    row = page.get_by_role("row").filter(has_text=kim_id)
    expect(row).to_contain_text("admin-1")
    expect(row).to_contain_text("GDPR-42")
    expect(row.locator("td").last).to_have_text("1")
    assert serious_violations(page) == []
    screenshots(page, "admin-erasures")
    with workspace.api("admin-1", ("admin",)) as admin:
        assert ok(admin.get(f"/v1/people/{kim_id}/export"))["erased"] is True
        assert ok(admin.get(f"/v1/tickets/{opened['id']}"))["description"] != "Now at 1 Elm St"


def test_the_settings_screens_fit_a_phone_and_an_agent_is_refused_them(workspace: Workspace) -> None:
    page = workspace.page(width=375, height=800)
    workspace.sign_in(page, ADA)
    for screen in SCREENS:
        page.goto(f"{workspace.url}{screen}")
        expect(page.get_by_role("navigation", name="Admin")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), screen
        assert serious_violations(page) == [], screen
    agent = workspace.page()  # another browser: it must not be handed Ada's session
    workspace.sign_in(agent, ANN)
    expect(agent.get_by_role("banner").get_by_role("link", name="Admin")).to_have_count(0)
    for screen in SCREENS:
        agent.goto(f"{workspace.url}{screen}")
        expect(agent.get_by_role("heading", name="Admins only")).to_be_visible()
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        assert ann.put("/v1/fields/plan", json={"label": "Plan", "kind": "text"}).status_code == 403
