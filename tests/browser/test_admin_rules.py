"""An admin at the routing rules, business calendars and SLA policies screens; an agent refused them.

What the screens set is read back through the API; each screen's folded "Recent changes" names the admin
who changed its list (tests/integration/test_setup_history.py checks every kind of change through the API).
"""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import Workspace, screenshots, serious_violations
from tests.client import eventually

ADA = "Sign in as Ada (admin)"
ANN = "Sign in as Ann (agent, first-line)"
SCREENS = ("/admin", "/admin/routing", "/admin/rules", "/admin/calendars", "/admin/policies")


def ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code < 300, answer.text
    body: dict[str, Any] = answer.json() if answer.content else {}
    return body


def admin_screen(workspace: Workspace, page: Page, screen: str) -> None:
    """Ada signed in, at one of the admin area's screens, reached from the header."""
    workspace.sign_in(page, ADA)
    page.get_by_role("banner").get_by_role("link", name="Admin").click()
    page.get_by_role("navigation", name="Admin").get_by_role("link", name=screen).click()
    expect(page.get_by_role("heading", name=screen, level=1)).to_be_visible()


def add_rule(page: Page, name: str, group: str, words: str) -> None:
    page.get_by_label("Rule name").fill(name)
    page.get_by_label("Send to group").fill(group)
    page.get_by_label("Words of the title or description (comma-separated)").fill(words)
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("row").filter(has_text=name)).to_be_visible()


def first_column(page: Page) -> list[str]:
    """The names in the list's rows, top to bottom (the list is the page's first table)."""
    return [name.strip() for name in page.locator("tbody").first.locator("tr td:nth-child(2)").all_inner_texts()]


def recent_changes(page: Page) -> Any:
    """The screen's folded history of its list, unfolded."""
    page.get_by_text("Recent changes", exact=True).click()
    return page.locator("#history")


def test_an_admin_orders_routing_rules_and_a_new_ticket_follows_them(workspace: Workspace) -> None:
    with workspace.api("admin-1", ("admin",)) as admin:
        for group in ("first-line", "network", "billing"):
            ok(admin.put(f"/v1/routing/groups/{group}", json={"tier": 1}))
    page = workspace.page()
    admin_screen(workspace, page, "Routing rules")
    add_rule(page, "vpn-network", "network", "vpn")
    add_rule(page, "vpn-billing", "billing", "vpn, invoice")
    assert first_column(page) == ["vpn-network", "vpn-billing"]
    billing = page.get_by_role("row").filter(has_text="vpn-billing")
    expect(billing).to_contain_text("Words: invoice, vpn")  # as routing keeps them: sorted
    expect(billing).to_contain_text("rule 'vpn-billing' matched")
    assert serious_violations(page) == []
    screenshots(page, "admin-rules")

    page.get_by_role("button", name="Move up vpn-billing").click()
    expect(page.locator("tbody tr").first).to_contain_text("vpn-billing")
    assert first_column(page) == ["vpn-billing", "vpn-network"]
    history = recent_changes(page)
    expect(history.get_by_role("row").nth(1)).to_contain_text("admin-1")  # Ada, newest first
    expect(history.get_by_role("row").nth(1)).to_contain_text("Order changed")
    expect(history).to_contain_text("Added to the list")
    page.get_by_role("link", name="Edit vpn-network").click()
    expect(page.get_by_role("heading", name="Change rule vpn-network")).to_be_visible()
    page.get_by_label("P1").check()
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("row").filter(has_text="vpn-network")).to_contain_text("Priority: P1")
    page.get_by_label("Rule name").fill("bad-words")
    page.get_by_label("Send to group").fill("network")
    page.get_by_label("Words of the title or description (comma-separated)").fill("vpn, 4g")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#words-error")).to_be_visible()  # a digit is no word a ticket has
    expect(page.get_by_label("Rule name")).to_have_value("bad-words")  # what was typed stays
    page.get_by_label("Send to group").fill("nowhere")
    page.get_by_label("Words of the title or description (comma-separated)").fill("vpn")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#group_id-error")).to_contain_text("nowhere")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling on a phone

    with workspace.api("admin-1", ("admin",)) as admin:
        rules = ok(admin.get("/v1/routing/rules"))["rules"]
    assert [r["rule_id"] for r in rules] == ["vpn-billing", "vpn-network"]
    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        opened = ok(
            kim.post(
                "/v1/tickets",
                json={"title": "VPN drops every hour", "description": "Since Monday.", "requester_id": "customer-kim"},
            )
        )
    ticket_id = str(opened["id"])
    with workspace.api("admin-1", ("admin",)) as admin:
        routed = eventually(
            lambda: ok(admin.get(f"/v1/routing/tickets/{ticket_id}")), lambda t: bool(t["decisions"]), timeout=30
        )
    assert routed["group_id"] == "billing"
    assert routed["decisions"][0]["rule_id"] == "vpn-billing"
    assert routed["decisions"][0]["reason"].startswith("rule 'vpn-billing' matched")  # then where in the group
    assert routed["decisions"][0]["rules_passed_over"] == {}
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    expect(page.locator(".facts .why")).to_contain_text("rule 'vpn-billing' matched")


def test_an_admin_sets_a_business_calendar_and_a_policy_and_a_wrong_value_is_named_beside_its_field(
    workspace: Workspace,
) -> None:
    page = workspace.page()
    admin_screen(workspace, page, "Business calendars")
    page.get_by_label("Calendar name").fill("berlin-office")
    page.get_by_label("Time zone (such as Europe/Berlin)").fill("Mars/Olympus")
    page.get_by_label("Friday").fill("09:00-13:00, 14:00-16:00")
    page.get_by_label("Holidays (dates such as 2026-12-24, comma-separated)").fill("2026-12-24, 2026-12-31")
    page.get_by_role("button", name="Save calendar").click()
    expect(page.locator("#time_zone-error")).to_contain_text("Mars/Olympus")
    expect(page.get_by_label("Time zone (such as Europe/Berlin)")).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []
    page.get_by_label("Time zone (such as Europe/Berlin)").fill("Europe/Berlin")
    page.get_by_label("Tuesday").fill("09:00 until 17:00")
    page.get_by_role("button", name="Save calendar").click()
    expect(page.locator("#tue-error")).to_be_visible()  # named by the page before the API is asked
    page.get_by_label("Tuesday").fill("09:00-17:00")
    page.get_by_label("Wednesday").fill("09:00-25:00")
    page.get_by_role("button", name="Save calendar").click()
    expect(page.locator("#wed-error")).to_contain_text("25:00")  # named by the SLA service
    page.get_by_label("Wednesday").fill("09:00-17:00")
    page.get_by_role("button", name="Save calendar").click()
    office = page.get_by_role("row").filter(has_text="berlin-office")
    expect(office).to_contain_text("Europe/Berlin")
    expect(office).to_contain_text("Friday 09:00-13:00, 14:00-16:00")
    expect(office).to_contain_text("2026-12-24, 2026-12-31")
    page.get_by_role("link", name="Edit berlin-office").click()
    expect(page.get_by_label("Friday")).to_have_value("09:00-13:00, 14:00-16:00")
    page.get_by_label("Monday").fill("10:00-18:00")
    page.get_by_role("button", name="Save calendar").click()
    expect(page.get_by_role("row").filter(has_text="berlin-office")).to_contain_text("Monday 10:00-18:00")
    assert serious_violations(page) == []
    screenshots(page, "admin-calendars")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="SLA policies").click()
    page.get_by_label("Policy name").fill("p1-office")
    page.get_by_label("P1").check()
    page.get_by_label("Calendar", exact=True).select_option("berlin-office")
    page.get_by_label("First response").fill("1h")
    page.get_by_label("Resolution").fill("1d 4h")
    page.get_by_label("Warn when this share of a target is used, in per cent (comma-separated)").fill("50, 150")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator("#warn_at-error")).to_be_visible()  # 150 % is past the target
    expect(page.get_by_label("First response")).to_have_value("1h")
    page.get_by_label("Warn when this share of a target is used, in per cent (comma-separated)").fill("50, 80")
    page.get_by_role("button", name="Save policy").click()
    policy = page.get_by_role("row").filter(has_text="p1-office")
    expect(policy).to_contain_text("berlin-office")
    expect(policy).to_contain_text("First response: 1h")
    expect(policy).to_contain_text("Resolution: 1d 4h")
    expect(policy).to_contain_text("50%, 80%")
    page.get_by_label("Policy name").fill("everything-else")
    page.get_by_label("Resolution").fill("3d")
    page.get_by_role("button", name="Save policy").click()
    page.get_by_role("button", name="Move up everything-else").click()
    expect(page.locator("tbody tr").first).to_contain_text("everything-else")
    assert serious_violations(page) == []
    screenshots(page, "admin-policies")

    with workspace.api("admin-1", ("admin",)) as admin:
        calendar = ok(admin.get("/v1/sla/calendars"))["calendars"]["berlin-office"]
        policies = ok(admin.get("/v1/sla/policies"))["policies"]
    assert calendar["time_zone"] == "Europe/Berlin"
    assert calendar["weekly"]["mon"] == [["10:00", "18:00"]]
    assert calendar["weekly"]["fri"] == [["09:00", "13:00"], ["14:00", "16:00"]]
    assert "sat" not in calendar["weekly"]
    assert calendar["holidays"] == ["2026-12-24", "2026-12-31"]
    assert [p["policy_id"] for p in policies] == ["everything-else", "p1-office"]
    assert policies[1] | {"match": policies[1]["match"]["priorities"]} == {
        "policy_id": "p1-office", "match": ["P1"], "calendar": "berlin-office",
        "targets": {"first_response": 3600, "resolution": 100800}, "warn_at": [50, 80],
    }  # fmt: skip

    page.get_by_role("button", name="Delete everything-else").click()
    expect(page.get_by_role("row").filter(has_text="everything-else")).to_have_count(0)
    expect(recent_changes(page).get_by_role("row").nth(1)).to_contain_text("Deleted from the list")
    with workspace.api("admin-1", ("admin",)) as admin:
        assert [p["policy_id"] for p in ok(admin.get("/v1/sla/policies"))["policies"]] == ["p1-office"]


def test_an_agent_is_refused_the_admin_screens(workspace: Workspace) -> None:
    page = workspace.page()
    workspace.sign_in(page, ANN)
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="Admin")).to_have_count(0)
    for screen in SCREENS:
        answer = page.goto(f"{workspace.url}{screen}")
        assert answer is not None
        assert answer.status == 403, screen
        expect(page.get_by_role("heading", name="Admins only")).to_be_visible()
    assert serious_violations(page) == []
    token = page.locator("body").get_attribute("hx-headers") or ""
    csrf = token.split('"X-CSRF-Token": "')[1].split('"')[0]
    sent = page.request.post(
        f"{workspace.url}/admin/rules", form={"rule_id": "mine", "group_id": "first-line", "csrf_token": csrf}
    )
    assert sent.status == 403  # her own form token, still not an admin
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        assert ann.put("/v1/sla/calendars/mine", json={"time_zone": "UTC", "weekly": {}}).status_code == 403
    with workspace.api("admin-1", ("admin",)) as admin:
        assert admin.get("/v1/routing/rules").status_code == 404  # nothing was set up
