"""An admin tries a draft trigger on the desk's last day at the what-if screen: a wrong draft is refused beside
the draft, a good one runs as a job whose progress the page follows, then the report with the tickets it would
have touched, each linked to its page; an existing trigger can be loaded as the draft to revise it."""

from __future__ import annotations

import json
from functools import partial

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Workspace, screenshots, serious_violations
from tests.client import eventually
from tests.harness import Desk, Service

ADA = "Sign in as Ada (admin)"
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


def run(page: Page, draft: str, days: str = "1") -> None:
    page.get_by_label("Draft (JSON, as the triggers API takes it)").fill(draft)
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
