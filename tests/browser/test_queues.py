"""An agent's queues in the browser: the unassigned and those breaching soon (nearest SLA due first), each
with its count in the navigation, and saved views kept to their owner until shared with the team."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import Workspace, screenshots, serious_violations
from tests.client import eventually

ANN = "Sign in as Ann (agent, first-line)"
BORIS = "Sign in as Boris (agent, first-line)"


def ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code < 300, answer.text
    body: dict[str, Any] = answer.json() if answer.content else {}
    return body


def a_first_line_desk_with_clocks(workspace: Workspace) -> None:
    """first-line takes every ticket (nobody is online to be given one); P1 must be answered within the hour,
    P3 within eight."""
    with workspace.api("admin-1", ("admin",)) as admin:
        ok(admin.put("/v1/routing/groups/first-line", json={"tier": 1, "default": True}))
        for name, priority, hours in (("urgent", "P1", 1), ("normal", "P3", 8)):
            policy = {"match": {"priorities": [priority]}, "targets": {"first_response": f"PT{hours}H"}}
            ok(admin.put(f"/v1/sla/policies/{name}", json=policy))


def customer_opens(workspace: Workspace, *tickets: tuple[str, str, list[str]]) -> list[str]:
    """Kim opens the tickets (title, priority, tags); once each has its group and clock, their ids."""
    opened = []
    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        for title, priority, tags in tickets:
            form = {"title": title, "description": "Please help.", "requester_id": "customer-kim",
                    "priority": priority, "tags": tags}  # fmt: skip
            opened.append(str(ok(kim.post("/v1/tickets", json=form))["id"]))
    with workspace.api("admin-1", ("admin",)) as admin:

        def ready() -> list[dict[str, Any]]:
            return list(
                ok(admin.get("/v1/tickets", params={"queue": "breaching_soon", "group_id": "first-line"}))["tickets"]
            )

        eventually(ready, lambda rows: {row["id"] for row in rows} == set(opened), timeout=45)
    return opened


def nav_link(page: Page, title: str) -> Any:
    return page.get_by_role("navigation", name="Queues").get_by_role("link", name=re.compile(f"^{title}"))


def test_an_agent_sees_unassigned_and_breaching_soon_queues_with_their_counts(workspace: Workspace) -> None:
    a_first_line_desk_with_clocks(workspace)
    customer_opens(workspace, ("Toner is low", "P3", []), ("Server room is too hot", "P1", []))
    page = workspace.page()
    workspace.sign_in(page, ANN)
    expect(nav_link(page, "Unassigned").locator(".count")).to_have_text("2")
    expect(nav_link(page, "Breaching soon").locator(".count")).to_have_text("2")
    expect(nav_link(page, "My tickets").locator(".count")).to_have_text("0")
    nav_link(page, "Unassigned").click()
    expect(page.get_by_role("heading", name="Unassigned", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Toner is low")).to_be_visible()
    expect(page.get_by_role("link", name="Server room is too hot")).to_be_visible()

    nav_link(page, "Breaching soon").click()
    expect(page.get_by_role("heading", name="Breaching soon", level=1)).to_be_visible()
    rows = page.locator("#rows tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Server room is too hot")  # due within the hour: first
    expect(page.get_by_role("columnheader", name=re.compile("^Due"))).to_have_attribute("aria-sort", "ascending")
    expect(rows.nth(0).locator("td.col-sla_due_at time")).to_have_count(1)
    assert serious_violations(page) == []
    screenshots(page, "queue-breaching-soon")

    page.get_by_role("link", name=re.compile("^Due")).click()  # the header turns the order round
    expect(page.get_by_role("columnheader", name=re.compile("^Due"))).to_have_attribute("aria-sort", "descending")
    expect(rows.nth(0)).to_contain_text("Toner is low")
    page.get_by_role("link", name=re.compile("^Priority")).click()
    expect(page.get_by_role("columnheader", name=re.compile("^Priority"))).to_have_attribute("aria-sort", "ascending")
    expect(rows.nth(0)).to_contain_text("P1")

    page.set_viewport_size({"width": 375, "height": 740})  # a phone: the queue as a list
    page.reload()
    expect(page.get_by_role("link", name="Server room is too hot")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"


def test_an_agent_saves_a_view_and_a_colleague_sees_it_when_shared(workspace: Workspace) -> None:
    a_first_line_desk_with_clocks(workspace)
    customer_opens(workspace, ("VPN down for the office", "P1", ["vpn"]), ("VPN slow at home", "P3", ["vpn"]))
    ann = workspace.page()
    workspace.sign_in(ann, ANN)
    ann.get_by_text("Save as a view").click()
    ann.get_by_label("View name").fill("Urgent VPN")
    ann.get_by_label("Filters").fill("priority:P1,P2 tag:vpn")
    ann.get_by_label("Agent", exact=True).uncheck()
    ann.get_by_label("Due", exact=True).check()
    ann.get_by_label("Order").select_option("priority")
    ann.get_by_role("button", name="Save view").click()
    expect(ann.get_by_role("heading", name="Urgent VPN", level=1)).to_be_visible()
    expect(ann.get_by_role("link", name="VPN down for the office")).to_be_visible()
    expect(ann.get_by_role("link", name="VPN slow at home")).to_have_count(0)
    expect(ann.get_by_role("columnheader", name=re.compile("^Due"))).to_be_visible()
    expect(ann.get_by_role("columnheader", name="Agent")).to_have_count(0)
    saved = ann.get_by_role("region", name="Saved views").get_by_role("link", name=re.compile("^Urgent VPN"))
    expect(saved.locator(".count")).to_have_text("1")
    assert serious_violations(ann) == []
    screenshots(ann, "saved-view")

    boris = workspace.page()
    workspace.sign_in(boris, BORIS)
    expect(boris.get_by_role("heading", level=1)).to_be_visible()
    expect(boris.get_by_role("link", name=re.compile("^Urgent VPN"))).to_have_count(0)  # Ann's own, for now

    ann.get_by_text("Save as a view").click()
    ann.get_by_label("Share with the team").check()
    ann.get_by_role("button", name="Save view").click()
    expect(ann.get_by_role("region", name="Saved views")).to_contain_text("shared")

    boris.reload()
    shared = boris.get_by_role("link", name=re.compile("^Urgent VPN"))
    expect(shared.locator(".count")).to_have_text("1")
    shared.click()
    expect(boris.get_by_role("heading", name="Urgent VPN", level=1)).to_be_visible()
    expect(boris.get_by_role("link", name="VPN down for the office")).to_be_visible()
    expect(boris.locator("form[action$='/delete'] button")).to_have_count(0)  # Ann's to delete, not his

    ann.get_by_role("button", name="Delete the view Urgent VPN").click()
    expect(ann.get_by_role("link", name=re.compile("^Urgent VPN"))).to_have_count(0)
    boris.reload()
    expect(boris.get_by_role("heading", level=1)).to_be_visible()
