"""An agent logs time on the ticket page, with a reply and alone, sees the entries and their total, and corrects
a wrong one with a new entry; a bad entry is refused beside its field; a customer sees no time at all."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.browser.conftest import Workspace, serious_violations
from tests.browser.test_workspace import ANN, KIM, a_routed_ticket, ok
from tests.client import eventually

ADA = "Sign in as Ada (admin)"


def test_an_admin_defines_the_activity_types_on_their_screen(workspace: Workspace) -> None:
    page = workspace.page()
    workspace.sign_in(page, ADA)
    page.goto(f"{workspace.url}/admin/activity-types")
    expect(page.get_by_role("heading", name="Activity types", exact=True)).to_be_visible()
    page.get_by_label("Label agents see").fill("Travel")
    page.get_by_role("button", name="Save activity type").click()
    expect(page.locator("#key-error")).to_be_visible()
    page.get_by_label("Key (small letters, digits, - and _)").fill("travel")
    page.get_by_label("Label agents see").fill("Travel")
    page.get_by_label("Billable unless the entry says otherwise").uncheck()
    page.get_by_role("button", name="Save activity type").click()
    expect(page.get_by_role("row").filter(has_text="Travel")).to_contain_text("no")
    assert serious_violations(page) == []
    with workspace.api("admin-1", ("admin",)) as admin:
        types = ok(admin.get("/v1/time-activity-types"))["activity_types"]
    assert types == {"travel": {"label": "Travel", "billable": False, "retired": False}}


def test_an_agent_logs_time_on_the_ticket_page(workspace: Workspace) -> None:
    with workspace.api("admin-1", ("admin",)) as admin:
        ok(admin.put("/v1/time-activity-types/support", json={"label": "Support", "billable": True}))
        ok(admin.put("/v1/time-activity-types/travel", json={"label": "Travel", "billable": False}))
    ticket_id = a_routed_ticket(workspace, "Printer in room 4 jams")
    page = workspace.page()
    workspace.sign_in(page, ANN)
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    time = page.get_by_role("region", name="Time worked")
    expect(time.get_by_role("status")).to_have_text("Total 0:00 h, billable 0:00 h")
    assert serious_violations(page) == []

    reply = page.locator("#reply-form")
    reply.get_by_label("Message").fill("I cleared the paper path.")
    reply.get_by_label("Minutes", exact=True).fill("25")
    reply.get_by_label("Activity").select_option("support")
    reply.get_by_role("button", name="Send").click()
    expect(page.get_by_text("I cleared the paper path.")).to_be_visible()
    expect(time.get_by_role("status")).to_have_text("Total 0:25 h, billable 0:25 h")

    time.get_by_label("Minutes worked").fill("0")
    time.get_by_role("button", name="Log time").click()
    expect(page.locator("#time-minutes-error")).to_be_visible()  # the API's refusal, beside the field it names
    time.get_by_label("Minutes worked").fill("90")
    time.get_by_label("Activity").select_option("travel")
    time.get_by_label("Note").fill("Drove to the branch office")
    time.get_by_role("button", name="Log time").click()
    expect(time.get_by_role("status")).to_have_text("Total 1:55 h, billable 0:25 h")
    expect(time.get_by_role("row").filter(has_text="Drove to the branch office")).to_contain_text("Travel")

    time.get_by_label("Minutes worked").fill("60")
    time.get_by_label("Activity").select_option("travel")
    time.get_by_label("Corrects").select_option(label=f"{datetime.now(UTC).date().isoformat()} · agent-ann · 90 min")
    time.get_by_role("button", name="Log time").click()
    expect(time.get_by_role("status")).to_have_text("Total 1:25 h, billable 0:25 h")
    expect(time.locator("tr.corrected")).to_have_count(1)
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling on a phone

    with workspace.api("admin-1", ("admin",)) as admin:
        sheet = ok(admin.get(f"/v1/tickets/{ticket_id}/time-entries"))
    assert [(e["minutes"], e["activity"], e["billable"]) for e in sheet["entries"]] == [
        (25, "support", True), (90, "travel", False), (60, "travel", False)
    ]  # fmt: skip

    kim = workspace.page()
    workspace.sign_in(kim, KIM)
    kim.goto(f"{workspace.url}/tickets/{ticket_id}")
    expect(kim.get_by_role("heading", name="Printer in room 4 jams")).to_be_visible()
    expect(kim.get_by_role("region", name="Time worked")).to_have_count(0)
    expect(kim.get_by_label("Minutes", exact=True)).to_have_count(0)


def test_an_admin_reads_the_time_worked_per_agent_and_activity_and_downloads_it(workspace: Workspace) -> None:
    with workspace.api("admin-1", ("admin",)) as admin:
        ok(admin.put("/v1/time-activity-types/support", json={"label": "Support", "billable": True}))
        ok(admin.put("/v1/time-activity-types/travel", json={"label": "Travel", "billable": False}))
    ticket_id = a_routed_ticket(workspace, "Scanner drops pages")
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        for minutes, activity in ((30, "support"), (45, "travel"), (15, "support")):
            ok(ann.post(f"/v1/tickets/{ticket_id}/time-entries", json={"minutes": minutes, "activity": activity}))
    with workspace.api("admin-1", ("admin",)) as admin:
        eventually(lambda: ok(admin.get("/v1/reports/time")), lambda r: r["minutes"] == 90, timeout=30)

    page = workspace.page()
    workspace.sign_in(page, ADA)
    page.goto(f"{workspace.url}/reports")
    page.get_by_role("navigation", name="Reports").get_by_role("link", name="Time worked").click()
    expect(page.get_by_role("heading", name="Reports: Time worked")).to_be_visible()
    expect(page.locator(".report-totals")).to_contain_text("1:30")  # per agent by default: one row, Ann's
    expect(page.get_by_role("row").filter(has_text="agent-ann")).to_contain_text("0:45")  # billable: support only
    expect(page.get_by_label("Priority", exact=True)).to_have_count(0)  # time has no priority or channel

    page.get_by_role("checkbox", name="Activity").check()
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("row").filter(has_text="travel")).to_contain_text("0:45")
    expect(page.get_by_role("row").filter(has_text="support")).to_contain_text("0:45")
    expect(page.get_by_role("img", name="Hours worked")).to_be_visible()
    assert "group_by=agent" in page.url
    assert "group_by=activity" in page.url
    assert serious_violations(page) == []

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="Download as CSV").click()
    with open(downloaded.value.path(), encoding="utf-8") as sheet:
        lines = sheet.read().splitlines()
    assert lines[0].split(",")[:2] == ["agent", "activity"]
    assert sorted(lines[1:]) == ["agent-ann,support,2,45,45", "agent-ann,travel,1,45,0"]

    page.get_by_role("checkbox", name="Agent").uncheck()
    page.get_by_role("checkbox", name="Activity").uncheck()
    page.get_by_label("From", exact=True).fill("2026-02-01")
    page.get_by_label("To", exact=True).fill("2026-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#from-error")).to_be_visible()  # the API's refusal, beside the field it names
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{workspace.url}/reports/time?group_by=month&group_by=activity")
    expect(page.get_by_role("row").filter(has_text="travel")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert serious_violations(page) == []
