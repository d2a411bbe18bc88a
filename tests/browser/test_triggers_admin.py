"""The triggers screen in the browser: an admin makes triggers from condition and action rows (a wrong value is
named beside its row), orders them with the keyboard, disables one (its state says why), and sees a trigger's
firing on a new ticket in its recent firings. Axe finds nothing serious; 375 px wide works."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Workspace, screenshots, serious_violations
from tests.browser.test_admin_rules import ADA, admin_screen, first_column
from tests.browser.test_workspace import a_routed_ticket, ok
from tests.client import eventually
from tests.harness import Desk


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def fill_trigger(page: Page, name: str, condition: tuple[str, str, str] | None, tags: str) -> None:
    """The new-trigger form: its name, one condition row (field, operator, value) and one action row adding tags."""
    page.get_by_label("Trigger name").fill(name)
    if condition is not None:
        row = page.get_by_role("group", name="Condition 1")
        row.get_by_label("Field").select_option(condition[0])
        row.get_by_label("Operator").select_option(condition[1])
        row.get_by_label("Value (hours; several: comma-separated)").fill(condition[2])
    action = page.get_by_role("group", name="Action 1")
    action.get_by_label("Action").select_option("tags_add")
    action.get_by_label("To (several tags: comma-separated)").fill(tags)


def test_an_admin_makes_orders_and_disables_triggers_and_sees_one_fire(workspace: Workspace, desk: Desk) -> None:
    desk.service("rules").start()
    page = workspace.page()
    admin_screen(workspace, page, "Triggers")
    expect(page.get_by_text("No triggers yet.")).to_be_visible()

    fill_trigger(page, "Tag new tickets", ("status", "is", "brand-new"), "seen-by-rules")
    page.get_by_role("button", name="Create trigger").click()
    refused = page.get_by_role("group", name="Condition 1").get_by_role("alert")
    expect(refused).to_contain_text("'brand-new' is no status")
    expect(page.get_by_label("Trigger name")).to_have_value("Tag new tickets")  # what was typed is kept
    page.get_by_role("group", name="Condition 1").get_by_label("Value (hours; several: comma-separated)").fill("new")
    page.get_by_role("button", name="Create trigger").click()
    expect(page.get_by_role("row").filter(has_text="Tag new tickets")).to_contain_text("Enabled")
    fill_trigger(page, "Second opinion", None, "second")
    page.get_by_role("button", name="Create trigger").click()
    assert first_column(page) == ["Tag new tickets", "Second opinion"]
    assert serious_violations(page) == []
    screenshots(page, "admin-triggers")

    page.get_by_role("button", name="Move up Second opinion").focus()
    page.keyboard.press("Enter")
    expect(page.locator("tbody tr").first).to_contain_text("Second opinion")
    assert first_column(page) == ["Second opinion", "Tag new tickets"]
    expect(page.get_by_role("button", name="Move down Second opinion")).to_be_focused()  # press again: down again

    page.get_by_role("button", name="Disable Second opinion").click()
    disabled = page.get_by_role("row").filter(has_text="Second opinion")
    expect(disabled).to_contain_text("Disabled: disabled by an admin")
    expect(disabled.get_by_role("button", name="Enable Second opinion")).to_be_visible()

    page.set_viewport_size({"width": 375, "height": 740})
    assert no_sideways_scroll(page)
    page.get_by_role("link", name="Tag new tickets").click()
    expect(page.get_by_role("heading", name="Tag new tickets", level=1)).to_be_visible()
    assert no_sideways_scroll(page)
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})

    ticket_id = a_routed_ticket(workspace, "Printer on fire")
    with workspace.api("admin-1", ("admin",)) as admin:
        eventually(lambda: ok(admin.get(f"/v1/tickets/{ticket_id}")), lambda t: "seen-by-rules" in t["tags"], 60)
        assert "second" not in ok(admin.get(f"/v1/tickets/{ticket_id}"))["tags"]  # disabled: it did nothing
    page.reload()
    firings = page.get_by_role("table", name="Recent firings, newest first")
    expect(firings.get_by_role("row").nth(1)).to_contain_text("status is new")
    expect(firings.get_by_role("row").nth(1)).to_contain_text("Ticket opened")

    page.get_by_label("Reason for disabling").fill("too noisy at night")
    page.get_by_role("button", name="Disable trigger").click()
    expect(page.get_by_role("region", name="State")).to_contain_text("Disabled: too noisy at night")
    page.get_by_role("button", name="Enable trigger").click()
    expect(page.get_by_role("region", name="State")).to_contain_text("Enabled")
    page.get_by_role("group", name="Condition 1").get_by_label("Field").select_option("")
    page.get_by_role("button", name="Save trigger").click()
    expect(page.get_by_text("Version 4")).to_be_visible()  # created, disabled, enabled, revised
    page.get_by_role("button", name="Retire trigger").click()
    assert first_column(page) == ["Second opinion"]


def test_an_admin_reads_the_triggers_screen_in_russian(workspace: Workspace, desk: Desk) -> None:
    desk.service("rules").start()
    page = workspace.page()
    workspace.sign_in(page, ADA)
    page.get_by_label("Language").select_option("ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.goto(f"{workspace.url}/admin/triggers")
    expect(page.get_by_role("heading", name="Триггеры", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Создать триггер")).to_be_visible()
    assert serious_violations(page) == []
