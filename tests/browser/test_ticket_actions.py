"""An agent works a ticket beyond replying: merges a duplicate, links and splits, edits tags and custom
fields, escalates; a customer's page shows none of these controls."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Workspace, serious_violations
from tests.browser.test_workspace import ANN, KIM, a_routed_ticket, ok
from tests.client import eventually

STAFF_CONTROLS = ("Merge…", "Link", "Escalate", "Save tags", "Assign", "Split off")


def number_of(workspace: Workspace, ticket_id: str) -> str:
    with workspace.api("admin-1", ("admin",)) as admin:
        return str(ok(admin.get(f"/v1/tickets/{ticket_id}"))["number"])


def ann_on(workspace: Workspace, ticket_id: str) -> Page:
    page = workspace.page()
    workspace.sign_in(page, ANN)
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    return page


def test_an_agent_merges_a_duplicate_and_the_page_says_where_it_went(workspace: Workspace) -> None:
    original = a_routed_ticket(workspace, "Printer on floor 2 is offline")
    duplicate = a_routed_ticket(workspace, "Floor 2 printer prints nothing")
    original_number, duplicate_number = number_of(workspace, original), number_of(workspace, duplicate)
    page = ann_on(workspace, duplicate)
    assert serious_violations(page) == []
    page.get_by_label("Merge this ticket into (its number)").fill("SD-1999-999999")
    page.get_by_role("button", name="Merge…").click()
    expect(page.locator("#into-error")).to_have_text("No ticket of that number that you can see.")
    page.get_by_label("Merge this ticket into (its number)").fill(original_number.lower())
    page.get_by_label("Why merge").fill("the same printer")
    page.get_by_role("button", name="Merge…").click()
    expect(page.get_by_role("heading", name=f"Merge {duplicate_number} into {original_number}?")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Merge them").click()
    where = page.get_by_role("status").filter(has_text="This ticket was merged into another")
    expect(where).to_contain_text(original_number)
    expect(page.locator(".facts .status")).to_have_text("closed")
    expect(page.get_by_role("button", name="Merge…")).to_have_count(0)  # a closed ticket merges no further
    where.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Printer on floor 2 is offline")).to_be_visible()
    related = page.get_by_role("region", name="Related tickets")
    expect(related.get_by_role("listitem").filter(has_text="Merged from")).to_contain_text(duplicate_number)
    with workspace.api("admin-1", ("admin",)) as admin:
        assert ok(admin.get(f"/v1/tickets/{duplicate}"))["merged_into"] == original

    kim = workspace.page()
    workspace.sign_in(kim, KIM)  # a browser of its own: Ann's session is not hers
    kim.goto(f"{workspace.url}/tickets/{duplicate}")
    expect(kim.get_by_role("status").filter(has_text="merged into another")).to_contain_text(original_number)
    kim.goto(f"{workspace.url}/tickets/{original}")
    expect(kim.get_by_role("heading", name="Printer on floor 2 is offline")).to_be_visible()
    for control in STAFF_CONTROLS:
        expect(kim.get_by_role("button", name=control, exact=True)).to_have_count(0)
    expect(kim.get_by_text("Split into a new ticket")).to_have_count(0)
    expect(kim.get_by_label("Add tags (comma-separated)")).to_have_count(0)


def test_an_agent_links_two_tickets_and_splits_a_message_into_a_new_ticket(workspace: Workspace) -> None:
    outage = a_routed_ticket(workspace, "VPN down for the whole office")
    mine = a_routed_ticket(workspace, "VPN does not connect from home")
    outage_number, mine_number = number_of(workspace, outage), number_of(workspace, mine)
    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        ok(kim.post(f"/v1/tickets/{mine}/comments", json={"body": "Also: my keyboard lost two keys.", "public": True}))
    page = ann_on(workspace, mine)
    page.get_by_label("Link to ticket (its number)").fill(outage_number)
    page.get_by_label("How they relate").select_option("child_of")
    page.get_by_label("Why link").fill("one outage")
    page.get_by_role("button", name="Link", exact=True).click()
    related = page.get_by_role("region", name="Related tickets")
    expect(related.get_by_role("listitem").filter(has_text="Child of")).to_contain_text(outage_number)

    message = page.locator(".message").filter(has_text="keyboard lost two keys")
    message.get_by_text("Split into a new ticket").click()
    message.get_by_label("Title of the new ticket").fill("Keyboard lost two keys")
    assert serious_violations(page) == []
    message.get_by_role("button", name="Split off").click()
    new = related.get_by_role("link", name="Keyboard lost two keys")
    expect(new).to_be_visible()
    new.click()
    expect(page.get_by_role("heading", name="Keyboard lost two keys")).to_be_visible()
    expect(page.locator(".description")).to_have_text("Also: my keyboard lost two keys.")
    split_from = page.get_by_role("region", name="Related tickets").get_by_role("listitem")
    expect(split_from.filter(has_text="Split from")).to_contain_text(mine_number)
    with workspace.api("admin-1", ("admin",)) as admin:
        assert ok(admin.get(f"/v1/tickets/{outage}"))["links"] == {mine: "parent_of"}


def test_an_agent_edits_tags_and_custom_fields_and_a_wrong_value_is_named_beside_its_field(
    workspace: Workspace,
) -> None:
    ticket_id = a_routed_ticket(workspace, "New seats for the sales team")
    with workspace.api("admin-1", ("admin",)) as admin:
        ok(admin.put("/v1/fields/seats", json={"label": "Seats", "kind": "number"}))
        ok(admin.put("/v1/fields/plan", json={"label": "Plan", "kind": "choice", "choices": ["basic", "premium"]}))
        ok(admin.put("/v1/fields/renewal", json={"label": "Renewal", "kind": "date"}))
        ok(admin.put("/v1/fields/on_site", json={"label": "On site", "kind": "boolean"}))
    page = ann_on(workspace, ticket_id)
    page.get_by_label("Add tags (comma-separated)").fill("Licences, sales")
    page.get_by_role("button", name="Save tags").click()
    tags = page.locator(".facts div").filter(has_text="Tags")
    expect(tags).to_contain_text("licences, sales")
    page.get_by_role("checkbox", name="sales").check()
    page.get_by_role("button", name="Save tags").click()
    expect(tags.locator("dd")).to_have_text("licences")

    page.get_by_label("Seats", exact=True).fill("twelve")
    page.get_by_label("Plan", exact=True).select_option("premium")
    page.get_by_label("Renewal", exact=True).fill("2027-03-01")
    page.get_by_label("On site", exact=True).select_option("true")
    page.get_by_role("button", name="Save fields").click()
    expect(page.locator("#cf-seats-error")).to_contain_text("must be a number")
    expect(page.get_by_label("Seats", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Plan", exact=True)).to_have_value("premium")  # what was typed is kept
    assert serious_violations(page) == []
    page.get_by_label("Seats", exact=True).fill("12")
    page.get_by_role("button", name="Save fields").click()
    expect(page.locator(".facts div").filter(has_text="Seats")).to_contain_text("12")
    expect(page.locator(".facts div").filter(has_text="On site")).to_contain_text("yes")
    with workspace.api("admin-1", ("admin",)) as admin:
        ticket = ok(admin.get(f"/v1/tickets/{ticket_id}"))
    assert ticket["tags"] == ["licences"]
    assert ticket["custom_fields"] == {"seats": 12, "plan": "premium", "renewal": "2027-03-01", "on_site": True}


def test_an_agent_escalates_with_a_reason(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Database replica lags an hour")
    with workspace.api("admin-1", ("admin",)) as admin:
        ok(admin.put("/v1/routing/groups/second-line", json={"tier": 2}))
        ok(admin.put("/v1/routing/groups/first-line", json={"tier": 1, "default": True, "escalates_to": "second-line"}))
    page = ann_on(workspace, ticket_id)
    page.keyboard.press("a")
    expect(page.get_by_label("Group", exact=True)).to_be_focused()
    escalation = page.get_by_role("region", name="Escalate")
    expect(escalation).to_contain_text("second-line")
    assert serious_violations(page) == []
    escalation.get_by_role("button", name="Escalate").click()
    expect(page.locator("#escalate-reason-error")).to_have_text("Say why it needs the next tier.")
    page.get_by_label("Why it needs the next tier").fill("needs a database administrator")
    page.get_by_role("button", name="Escalate").click()
    expect(page.get_by_role("status")).to_contain_text("escalated to second-line")
    with workspace.api("admin-1", ("admin",)) as admin:
        eventually(
            lambda: ok(admin.get(f"/v1/tickets/{ticket_id}")), lambda t: t["group_id"] == "second-line", timeout=30
        )
        decisions = ok(admin.get(f"/v1/routing/tickets/{ticket_id}"))["decisions"]
    assert "needs a database administrator" in decisions[-1]["reason"]
