"""An admin tries a draft trigger on the desk's last day at the what-if screen: a wrong draft is refused beside
the draft, a good one runs as a job whose progress the page follows, then the report with the tickets it would
have touched, each linked to its page; an existing trigger can be loaded as the draft to revise it. A changed
routing rule set and a changed SLA policy likewise: each draft starts from the rules in force, and the report
shows the tickets that would move and the breaches a tighter target would add."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Workspace, screenshots, serious_violations
from tests.client import eventually
from tests.harness import Desk, Service

ADA = "Sign in as Ada (admin)"
ROUTING_DRAFT = "Candidate rule set (JSON: the rules in order, strategies by group)"
SLA_DRAFT = "Candidate policies (JSON: the policies in order, calendars by id)"
HOT = {"name": "Hot", "when": ["ticket.opened"], "if": [{"field": "priority", "op": "is", "value": "P1"}],
       "then": {"tags_add": ["hot"]}}  # fmt: skip
DRAFT = {"name": "Phone first", "when": ["ticket.opened"], "if": [{"field": "channel", "op": "is", "value": "phone"}],
         "then": {"tags_add": ["call-back"]}}  # fmt: skip


@pytest.fixture
def rules(desk: Desk) -> Service:
    """The rules service, started before the gateway (which finds it by the address it is given)."""
    return desk.service("rules").start()


@pytest.fixture
def desk_with_triggers(rules: Service, workspace: Workspace) -> tuple[Workspace, list[str]]:
    """A trigger, and two phoned-in urgent tickets it fired on."""
    with workspace.api("admin-1", ("admin",)) as admin:
        made = admin.post("/v1/triggers", json=HOT)
        assert made.status_code == 201, made.text
        tickets = []
        for _ in range(2):
            opened = admin.post("/v1/tickets", json={"title": "Printer on fire", "description": "Smoke.",
                                                     "requester_id": "customer-42", "channel": "phone",
                                                     "priority": "P1"})  # fmt: skip
            assert opened.status_code == 201, opened.text
            tickets.append(opened.json()["number"])
            path = f"/v1/tickets/{opened.json()['id']}"
            eventually(partial(admin.get, path), lambda answer: "hot" in answer.json()["tags"])
    return workspace, tickets


def at_what_if(workspace: Workspace, page: Page) -> None:
    workspace.sign_in(page, ADA)
    page.get_by_role("banner").get_by_role("link", name="Admin").click()
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="What-if").click()
    expect(page.get_by_role("heading", name="What-if", level=1)).to_be_visible()


def run(page: Page, draft: str, days: str = "1", label: str = "Draft (JSON, as the triggers API takes it)") -> None:
    page.get_by_label(label).fill(draft)
    page.get_by_label("Days to replay").fill(days)
    page.get_by_role("button", name="Run the what-if").click()


def test_an_admin_sees_what_a_draft_trigger_would_have_done_before_it_goes_live(
    desk_with_triggers: tuple[Workspace, list[str]],
) -> None:
    workspace, numbers = desk_with_triggers
    page = workspace.page()
    at_what_if(workspace, page)
    assert serious_violations(page) == []

    run(page, "{ not json")
    expect(page.get_by_role("alert")).to_contain_text("The draft is not JSON")
    wrong = DRAFT | {"if": [{"field": "channel", "op": "sounds_like", "value": "phone"}]}
    run(page, json.dumps(wrong))
    draft = page.get_by_label("Draft (JSON, as the triggers API takes it)")
    expect(draft).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#candidate-error")).to_contain_text("no operator 'sounds_like'")

    run(page, json.dumps(DRAFT))
    summary = page.get_by_role("table", name="What the draft would have done")
    expect(summary).to_be_visible(timeout=120_000)
    expect(summary.get_by_role("row", name="Tickets it would have touched")).to_contain_text("2")
    expect(summary.get_by_role("row", name="Of them, differing from what happened")).to_contain_text("0")
    examples = page.get_by_role("table", name="Example tickets it would have touched")
    for number in numbers:
        expect(examples.get_by_role("link", name=number)).to_be_visible()
    assert serious_violations(page) == []
    screenshots(page, "admin-what-if")
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    examples.get_by_role("link", name=numbers[0]).click()
    expect(page.get_by_role("heading", name="Printer on fire", level=1)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(numbers[0])


def test_an_admin_loads_an_existing_trigger_as_the_draft_to_revise(
    desk_with_triggers: tuple[Workspace, list[str]],
) -> None:
    workspace, _ = desk_with_triggers
    page = workspace.page()
    at_what_if(workspace, page)
    page.get_by_label("Revise an existing trigger").select_option(label="Hot")
    page.get_by_role("button", name="Load into the draft").click()
    draft = json.loads(page.get_by_label("Draft (JSON, as the triggers API takes it)").input_value())
    assert draft["name"] == "Hot"
    assert draft["trigger_id"]
    page.get_by_role("button", name="Run the what-if").click()
    differed = page.get_by_role("table", name="What the draft would have done")
    expect(differed).to_be_visible(timeout=120_000)
    expect(differed.get_by_role("row", name="Firings added to the desk's")).to_contain_text("0")


def ok(answer: Any) -> dict[str, Any]:
    assert answer.status_code < 300, answer.text
    body: dict[str, Any] = answer.json() if answer.content else {}
    return body


def billing_tickets(workspace: Workspace) -> list[str]:
    """First-line (Ann online) takes billing by a rule, a billing group waits for agents; an SLA policy of
    four hours to a first response; two billing tickets, routed to Ann. Their numbers."""
    with workspace.api("admin-1", ("admin",)) as admin:
        ok(admin.put("/v1/routing/groups/first-line", json={"tier": 1, "default": True}))
        ok(admin.put("/v1/routing/groups/billing", json={"tier": 1}))
        ok(admin.put("/v1/routing/agents/agent-ann", json={"groups": ["first-line"], "capacity": 5}))
        ok(admin.put("/v1/routing/agents/agent-ann/presence", json={"presence": "online"}))
        rule = {"rule_id": "billing-to-first-line", "group_id": "first-line", "categories": ["billing"]}
        ok(admin.post("/v1/routing/rules", json=rule, headers={"Idempotency-Key": "what-if-billing-rule"}))
        ok(admin.put("/v1/sla/policies/standard", json={"targets": {"first_response": "PT4H"}}))
        numbers = []
        for title in ("Invoice twice", "Refund missing"):
            body = {"title": title, "description": "Please check.", "requester_id": "customer-42",
                    "category": "billing"}  # fmt: skip
            opened = ok(admin.post("/v1/tickets", json=body))
            read = partial(admin.get, f"/v1/tickets/{opened['id']}")
            eventually(read, lambda answer: answer.json()["agent_id"] == "agent-ann", timeout=60)
            numbers.append(str(opened["number"]))
    return numbers


def test_an_admin_sees_which_tickets_a_changed_rule_set_would_move_and_what_a_tighter_policy_would_breach(
    rules: Service, workspace: Workspace
) -> None:
    numbers = billing_tickets(workspace)
    page = workspace.page()
    at_what_if(workspace, page)
    kinds = page.get_by_role("navigation", name="Kind of rules")

    kinds.get_by_role("link", name="Routing rules").click()
    draft = json.loads(page.get_by_label(ROUTING_DRAFT).input_value())
    assert [r["group_id"] for r in draft["rules"]] == ["first-line"], draft
    assert serious_violations(page) == []

    wrong = draft | {"rules": [{"rule_id": "no-group", "categories": ["billing"]}]}
    run(page, json.dumps(wrong, indent=2), label=ROUTING_DRAFT)
    expect(page.get_by_label(ROUTING_DRAFT)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#candidate-error")).to_contain_text("rules.0.group_id")

    draft["rules"][0]["group_id"] = "billing"
    run(page, json.dumps(draft, indent=2), label=ROUTING_DRAFT)
    moved = page.get_by_role("table", name="Tickets that would move")
    expect(moved).to_be_visible(timeout=180_000)
    for number in numbers:
        expect(moved.get_by_role("row", name=number)).to_contain_text("waiting in billing")
    per_group = page.get_by_role("table", name="Assignments per group")
    expect(per_group.get_by_role("row", name="first-line")).to_contain_text("-2")
    waiting = page.get_by_role("table", name="Tickets the draft would leave waiting")
    expect(waiting.get_by_role("link", name=numbers[0])).to_be_visible()
    assert serious_violations(page) == []
    screenshots(page, "admin-what-if-routing")
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="Try another draft").click()
    kinds = page.get_by_role("navigation", name="Kind of rules")
    kinds.get_by_role("link", name="SLA policies").focus()
    page.keyboard.press("Enter")
    policies = json.loads(page.get_by_label(SLA_DRAFT).input_value())
    assert policies["policies"][0]["targets"] == {"first_response": "PT4H"}, policies
    policies["policies"][0]["targets"]["first_response"] = "PT1S"
    run(page, json.dumps(policies, indent=2), label=SLA_DRAFT)
    by_target = page.get_by_role("table", name="Breaches by target")
    expect(by_target).to_be_visible(timeout=180_000)
    expect(by_target.get_by_role("row", name="First response")).to_be_visible()
    added = page.get_by_role("table", name="Breaches the draft would add")
    for number in numbers:
        expect(added.get_by_role("link", name=number)).to_be_visible()
    assert serious_violations(page) == []
    screenshots(page, "admin-what-if-sla")
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
