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


OFFICE = {
    "time_zone": "Europe/Berlin",
    "weekly": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def condition_row(page: Page, n: int, field: str, op: str, value: str, calendar: str = "", of: str = "") -> None:
    row = page.get_by_role("group", name=f"Condition {n}")
    row.get_by_label("Field").select_option(field)
    row.get_by_label("Operator").select_option(op)
    row.get_by_label("Value (hours; several: comma-separated)").fill(value)
    if of:
        row.get_by_label("Measured from (hours since)").select_option(of)
    if calendar:
        row.get_by_label("Business hours of calendar (hours since; empty: every hour)").fill(calendar)


def action_row(page: Page, n: int, action: str, value: str) -> None:
    row = page.get_by_role("group", name=f"Action {n}")
    row.get_by_label("Action").select_option(action)
    row.get_by_label("To (several tags: comma-separated)").fill(value)


def test_an_admin_makes_triggers_on_custom_fields_language_and_business_hours_that_call_a_webhook_and_mail_a_group(
    workspace: Workspace, desk: Desk
) -> None:
    desk.service("rules").start()
    with workspace.api("admin-1", ("admin",)) as admin:
        product = {"label": "Product", "kind": "choice", "choices": ["vpn", "mail"]}
        assert admin.put("/v1/fields/product", json=product).status_code == 200
        assert admin.put("/v1/fields/notes", json={"label": "Notes", "kind": "text"}).status_code == 200
        assert admin.put("/v1/sla/calendars/office", json=OFFICE).status_code == 200
        allowed = admin.put("/v1/webhooks/settings/private-network", json={"allow_private_network": True})
        assert allowed.status_code == 200, allowed.text
        hook = admin.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/crm", "types": ["ticket.rated"]})
        assert hook.status_code == 201, hook.text
        subscription = hook.json()["id"]
    page = workspace.page()
    admin_screen(workspace, page, "Triggers")
    fields = page.get_by_role("group", name="Condition 1").get_by_label("Field")
    expect(fields.locator("option[value='custom_fields.product']")).to_have_count(1)
    expect(fields.locator("option[value='custom_fields.notes']")).to_have_count(0)  # text: never on the topic

    page.get_by_label("Trigger name").fill("Russian VPN")
    condition_row(page, 1, "custom_fields.product", "is", "vpn")
    condition_row(page, 2, "language", "is", "ru")
    action_row(page, 1, "webhook_ids", subscription)
    action_row(page, 2, "notify_group", "tier2: ann@acme.test, bob@acme.test")
    page.get_by_role("button", name="Create trigger").click()
    expect(page.get_by_role("row").filter(has_text="Russian VPN")).to_contain_text("Enabled")

    page.get_by_label("Trigger name").fill("Pending in office hours")
    page.get_by_label("Ticket opened").uncheck()
    page.get_by_label("Time passes (hours since a moment)").check()
    condition_row(page, 1, "hours_since", "greater", "4", calendar="office", of="status_changed")
    action_row(page, 1, "tags_add", "late-in-hours")
    page.get_by_role("button", name="Create trigger").click()
    expect(page.get_by_role("row").filter(has_text="Pending in office hours")).to_contain_text("Enabled")
    assert serious_violations(page) == []

    with workspace.api("admin-1", ("admin",)) as admin:
        vpn, office = ok(admin.get("/v1/triggers"))["triggers"]
        assert vpn["if"] == [
            {
                "field": "custom_fields.product",
                "op": "is",
                "value": "vpn",
                "kind": "choice",
                "choices": ["vpn", "mail"],
            },
            {"field": "language", "op": "is", "value": "ru"},
        ]
        group = {"group_id": "tier2", "addresses": ["ann@acme.test", "bob@acme.test"]}
        assert vpn["then"] == {"webhook_ids": [subscription], "notify_group": group}
        assert office["when"] == ["time"]
        assert office["if"][0] | {"calendar_spec": None} == {"field": "hours_since", "op": "greater", "value": 4.0,
            "of": "status_changed", "business_hours": True, "calendar": "office", "calendar_spec": None}  # fmt: skip
        opened = admin.post("/v1/tickets", json={"title": "VPN не работает", "requester_id": "c-1", "language": "ru",
                                                 "custom_fields": {"product": "vpn"}})  # fmt: skip
        assert opened.status_code == 201, opened.text
        ticket_id = opened.json()["id"]
        applied = eventually(lambda: ok(admin.get(f"/v1/triggers/{vpn['id']}/firings"))["firings"], bool, 60)
        assert [f["ticket_id"] for f in applied] == [ticket_id]

    page.get_by_role("link", name="Pending in office hours").click()
    calendar = page.get_by_role("group", name="Condition 1").get_by_label(
        "Business hours of calendar (hours since; empty: every hour)"
    )
    expect(calendar).to_have_value("office")
    page.goto(f"{workspace.url}/admin/triggers/{vpn['id']}")
    firings = page.get_by_role("table", name="Recent firings, newest first")
    expect(firings.get_by_role("row").nth(1)).to_contain_text("custom field product is vpn and language is ru")
    shown = [page.get_by_role("group", name=f"Action {n}").get_by_label("To (several tags: comma-separated)")
             for n in (1, 2)]  # fmt: skip
    expect(shown[0]).to_have_value("tier2: ann@acme.test, bob@acme.test")
    expect(shown[1]).to_have_value(subscription)

    with workspace.api("admin-1", ("admin",)) as admin:  # the field retired meanwhile: the save names its row
        assert admin.delete("/v1/fields/product").status_code == 200
    page.get_by_role("button", name="Save trigger").click()
    refused = page.get_by_role("group", name="Condition 1").get_by_role("alert")
    expect(refused).to_contain_text("the tenant has no custom field 'product'")
    page.set_viewport_size({"width": 375, "height": 740})
    assert no_sideways_scroll(page)
    assert serious_violations(page) == []
