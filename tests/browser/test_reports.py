"""A supervisor's reports, and each person's language and time zone, in the browser."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_datetime, get_timezone
from playwright.sync_api import expect

from tests.browser.conftest import Workspace, screenshot, screenshots, serious_violations
from tests.browser.test_workspace import ANN, a_routed_ticket, ok
from tests.client import eventually

SOFIA = "Sign in as Sofia (supervisor, first-line, second-line)"  # she reads Russian
SUPERVISOR = ("supervisor-1", ("supervisor",), ("first-line", "second-line"))
REPORTS = {"backlog": "Открытые заявки", "flow": "Поток", "service-levels": "Уровни сервиса", "agents": "Агенты",
           "csat": "Удовлетворённость клиентов"}  # fmt: skip


def test_a_supervisor_filters_the_backlog_and_a_number_leads_to_its_tickets(workspace: Workspace) -> None:
    urgent = a_routed_ticket(workspace, "Printer on fire")
    a_routed_ticket(workspace, "Mouse squeaks")
    with workspace.api("admin-1", ("admin",)) as admin:
        ok(admin.patch(f"/v1/tickets/{urgent}", json={"priority": "P1", "reason": "smoke"}))
    with workspace.api(*SUPERVISOR) as sofia:

        def counted() -> dict[str, Any]:
            return ok(sofia.get("/v1/reports/backlog"))

        eventually(counted, lambda r: r["by_priority"].get("P1") == 1 and r["open"] == 2, timeout=30)
    page = workspace.page()
    workspace.sign_in(page, SOFIA)
    page.get_by_role("link", name="Отчёты").click()
    expect(page.get_by_role("heading", name="Отчёты: Открытые заявки")).to_be_visible()
    by_group = page.locator("table.counts").filter(has_text="По группе")
    expect(by_group.get_by_role("row").filter(has_text="first-line")).to_contain_text("2")
    expect(page.get_by_role("img", name="По приоритету")).to_be_visible()  # the chart, named by its title
    page.get_by_label("Приоритет", exact=True).select_option("P1")
    page.get_by_role("button", name="Показать").click()
    expect(by_group.get_by_role("row").filter(has_text="first-line")).to_contain_text("1")
    assert "priority=P1" in page.url
    for name, title in REPORTS.items():  # every report, as a chart and a table, without a serious violation
        page.get_by_role("navigation", name="Отчёты").get_by_role("link", name=title).click()
        expect(page.get_by_role("heading", name=f"Отчёты: {title}")).to_be_visible()
        expect(page.locator("figure.chart svg[role=img]").first).to_be_visible()
        assert serious_violations(page) == [], name
        screenshot(page, f"report-{name}-desktop-ru")
    page.get_by_role("navigation", name="Отчёты").get_by_role("link", name="Открытые заявки").click()  # still P1
    by_group = page.locator("table.counts").filter(has_text="По группе")
    by_group.get_by_role("row").filter(has_text="first-line").get_by_role("link", name="1").click()
    expect(page.get_by_role("link", name="Printer on fire")).to_be_visible()
    expect(page.get_by_role("link", name="Mouse squeaks")).to_have_count(0)
    page.set_viewport_size({"width": 375, "height": 800})  # on a phone: nothing wider than it
    page.goto(f"{workspace.url}/reports/backlog")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "report-backlog-phone-ru")


def test_an_agent_is_refused_the_reports(workspace: Workspace) -> None:
    page = workspace.page()
    workspace.sign_in(page, ANN)
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
    expect(page.get_by_role("link", name="Reports")).to_have_count(0)
    answer = page.goto(f"{workspace.url}/reports/backlog")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("alert")).to_have_text("The reports are for supervisors and admins.")
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        assert ann.get("/v1/reports/backlog").status_code == 403


def test_an_agent_switches_to_russian_and_a_time_zone_and_the_ticket_shows_times_there(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Clock is off")
    context = workspace.browser.new_context(locale="en-GB", timezone_id="Asia/Tokyo")
    workspace.contexts.append(context)
    context.set_default_timeout(15_000)
    page = context.new_page()
    workspace.sign_in(page, ANN)
    page.get_by_label("Language").select_option("ru")
    expect(page.get_by_role("heading", name="Мои заявки")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "ru"
    page.get_by_role("link", name="Часовой пояс: UTC").click()
    page.get_by_role("button", name="Взять часовой пояс браузера: Asia/Tokyo").click()
    expect(page.get_by_label("Часовой пояс", exact=True)).to_have_value("Asia/Tokyo")
    assert serious_violations(page) == []
    screenshots(page, "preferences", "ru")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("link", name="Часовой пояс: Asia/Tokyo")).to_be_visible()
    page.get_by_role("button", name="Выйти").click()
    workspace.sign_in(page, ANN)  # kept across sign-ins
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    with workspace.api("admin-1", ("admin",)) as admin:
        opened_at = ok(admin.get(f"/v1/tickets/{ticket_id}/history"))["events"][0]["at"]
    in_tokyo = format_datetime(
        datetime.fromisoformat(opened_at), "medium", tzinfo=get_timezone("Asia/Tokyo"), locale="ru"
    )
    expect(page.locator(".history time").first).to_have_text(in_tokyo)
    expect(page.get_by_role("heading", name="История")).to_be_visible()
