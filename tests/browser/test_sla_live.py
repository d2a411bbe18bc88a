"""An SLA warning arrives live: an agent has a ticket open, its first response nears breach, and the page
marks the target without a reload."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Workspace, screenshots, serious_violations
from tests.browser.test_live import a_live_page, received
from tests.browser.test_workspace import ANN, a_routed_ticket, ok


def test_an_agent_sees_the_sla_warning_arrive_on_the_open_ticket(workspace: Workspace) -> None:
    with workspace.api("admin-1", ("admin",)) as admin:
        # Every ticket: eight hours to answer. A P1: two minutes, with a warning once a quarter is used.
        ok(admin.put("/v1/sla/policies/urgent", json={"match": {"priorities": ["P1"]},
                                                      "targets": {"first_response": "PT2M", "resolution": "P1D"},
                                                      "warn_at": [25]}))  # fmt: skip
        ok(admin.put("/v1/sla/policies/standard", json={"targets": {"first_response": "PT8H"}}))
    ticket_id = a_routed_ticket(workspace, "The payment terminal is offline")
    page = a_live_page(workspace, ANN, ticket_id)
    targets = page.get_by_role("list", name="Service level targets")
    expect(targets).to_contain_text("First response")
    expect(targets).not_to_contain_text("nearing breach")

    # Raised to P1 while the page is open: the urgent policy's clock counts from the opening, and warns
    # once 30 seconds of its two minutes are used (at once, if they already are).
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        ok(ann.patch(f"/v1/tickets/{ticket_id}", json={"priority": "P1", "reason": "every till is down"}))
    first_response = page.locator(".target.warned")
    expect(first_response).to_contain_text("First response", timeout=60_000)
    expect(first_response).to_contain_text("nearing breach · 25%")
    assert "sla: sla.warning" in received(page)
    assert page.evaluate("window.__loaded") is True, "no reload: the facts were swapped in place"
    assert serious_violations(page) == []
    screenshots(page, "ticket-sla-warning")
