"""The reports' pages (/reports/<name>): a filter form, a chart and a table, for supervisors and admins.

Each number that the ticket list can select (by status, priority, group, agent, channel, the day
opened) links to a search with the same fields; the others (resolutions by day, SLA outcomes,
survey scores) cannot be listed as tickets and stay plain numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.web import forms
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.queues import queues_of
from services.web.reports.charts import Bars, Lines
from services.web.reports.filters import CHANNELS, KB_CHANNELS, OPEN, PRIORITIES, ReportFilters
from services.web.sessions import Session

FIELDS = ("from", "to", "group", "agent", "priority", "channel", "group_by")
TIME_DIMENSIONS = ("customer", "organisation", "agent", "group", "activity", "month")  # analytics' time report
Report = Callable[[dict[str, Any], ReportFilters], dict[str, Any]]


def _titles() -> dict[str, str]:
    return {
        "backlog": _("Backlog"),
        "flow": _("Flow"),
        "service-levels": _("Service levels"),
        "agents": _("Agents"),
        "csat": _("Customer satisfaction"),
        "knowledge": _("Knowledge base"),
        "time": _("Time worked"),
    }


def _dimension_names() -> dict[str, str]:
    return {
        "customer": _("Customer"),
        "organisation": _("Organisation"),
        "agent": _("Agent"),
        "group": _("Group"),
        "activity": _("Activity"),
        "month": _("Month"),
    }


def hours(minutes: int) -> str:
    """Minutes as hours and minutes, `1:05`: how time sheets show them."""
    return f"{minutes // 60}:{minutes % 60:02d}"


def _count(label: str, count: int, link: str = "") -> dict[str, Any]:
    """A number of the report, and the search listing its tickets (none for a zero: nothing to list)."""
    return {"label": label, "count": count, "link": link if count else ""}


def backlog(report: dict[str, Any], filters: ReportFilters) -> dict[str, Any]:
    """Open tickets by status, priority, group, agent and channel (each a link), and by age (not one: the
    list selects by the day opened, not by age now)."""
    dimensions = {
        "status": (_("By status"), "by_status"),
        "priority": (_("By priority"), "by_priority"),
        "group": (_("By group"), "by_group"),
        "agent": (_("By agent"), "by_agent"),
        "channel": (_("By channel"), "by_channel"),
    }
    tables = {}
    for field, (title, key) in dimensions.items():
        statuses = {} if field == "status" else {"status": OPEN}
        tables[title] = [
            _count(str(value), int(n), filters.search(**statuses | {field: str(value)}) if value != "none" else "")
            for value, n in report.get(key, {}).items()
        ]
    ages = {
        "under 1 day": _("under 1 day"), "1-3 days": _("1-3 days"), "3-7 days": _("3-7 days"),
        "7-30 days": _("7-30 days"), "over 30 days": _("over 30 days"),
    }  # fmt: skip
    tables[_("By age")] = [_count(ages.get(age, age), int(n)) for age, n in report.get("by_age", {}).items()]
    charts = [
        Bars.of(title, [(c["label"], c["count"]) for c in tables[title]])
        for title in (_("By status"), _("By priority"), _("By group"))
    ]
    return {"total": _count(_("Open tickets"), int(report.get("open", 0)), filters.search(status=OPEN)),
            "tables": tables, "charts": charts}  # fmt: skip


def flow(report: dict[str, Any], filters: ReportFilters) -> dict[str, Any]:
    """Per day (UTC) of the period: opened (a link to the tickets opened that day), resolved, reopened."""
    start, end = date.fromisoformat(str(report["from"])), date.fromisoformat(str(report["to"]))
    counted = {str(b["day"]): b for b in report.get("buckets", [])}
    days = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    opened = [int(counted.get(day, {}).get("opened", 0)) for day in days]
    resolved = [int(counted.get(day, {}).get("resolved", 0)) for day in days]
    reopened = [int(counted.get(day, {}).get("reopened", 0)) for day in days]
    rows = [
        {"day": day, "opened": _count(day, o, filters.search(opened=day)), "resolved": r, "reopened": again}
        for day, o, r, again in zip(days, opened, resolved, reopened, strict=True)
    ]
    series = {
        "opened": (_("Opened"), opened),
        "resolved": (_("Resolved"), resolved),
        "reopened": (_("Reopened"), reopened),
    }
    period = f"{start.isoformat()}..{end.isoformat()}"
    return {
        "rows": rows,
        "chart": Lines.of(_("Tickets a day"), days, series),
        "opened": _count(period, int(report.get("opened", 0)), filters.search(opened=period)),
        "resolved": report.get("resolved", 0),
        "reopened": report.get("reopened", 0),
        "reopen_rate": report.get("reopen_rate_percent"),
    }


def service_levels(report: dict[str, Any], filters: ReportFilters) -> dict[str, Any]:
    names = {"first_response": _("First response"), "next_response": _("Next response"), "resolution": _("Resolution")}
    metrics = [{"name": names.get(m, m)} | figures for m, figures in report.get("metrics", {}).items()]
    compliance = [(str(m["name"]), m["compliance_percent"]) for m in metrics]
    return {"metrics": metrics, "chart": Bars.of(_("Compliance, %"), compliance, scale=100, unit="%")}


def agents(report: dict[str, Any], filters: ReportFilters) -> dict[str, Any]:
    """Per agent and group: open tickets now (a link to them), resolved in the period (credited then)."""
    rows = [
        {
            "agent": a["agent_id"],
            "group": a.get("group_id") or "—",
            "open": _count(
                a["agent_id"],
                int(a["open"]),
                filters.search(status=OPEN, agent=a["agent_id"], group=a.get("group_id") or ""),
            ),
            "resolved": int(a["resolved"]),
        }
        for a in report.get("agents", [])
    ]
    charts = [
        Bars.of(_("Open now"), [(r["agent"], r["open"]["count"]) for r in rows]),
        Bars.of(_("Resolved in the period"), [(r["agent"], r["resolved"]) for r in rows]),
    ]
    return {"rows": rows, "charts": charts}


def csat(report: dict[str, Any], filters: ReportFilters) -> dict[str, Any]:
    scores = [(str(score), int(n)) for score, n in report.get("scores", {}).items()]
    return {"report": report, "scores": scores, "chart": Bars.of(_("Answers by score"), scores)}


def knowledge(report: dict[str, Any], filters: ReportFilters) -> dict[str, Any]:
    """Reads and the helpful share per article; self-service attempts solved and not, per day (all channels
    together) and per channel, with the deflection rate (solved of all that ended)."""
    start, end = date.fromisoformat(str(report["from"])), date.fromisoformat(str(report["to"]))
    days = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    solved = dict.fromkeys(days, 0)
    opened = dict.fromkeys(days, 0)
    for row in report.get("deflection", []):
        solved[row["day"]] = solved.get(row["day"], 0) + int(row["solved"])
        opened[row["day"]] = opened.get(row["day"], 0) + int(row["ticket_opened"])
    series = {
        "solved": (_("Solved by an article"), [solved[d] for d in days]),
        "ticket_opened": (_("A ticket opened anyway"), [opened[d] for d in days]),
    }
    by_channel = report.get("by_channel", {})
    rates = [(channel, figures.get("deflection_rate_percent")) for channel, figures in by_channel.items()]
    return {
        "report": report,
        "chart": Lines.of(_("Self-service attempts a day"), days, series),
        "rates": Bars.of(_("Deflection rate by channel, %"), rates, scale=100, unit="%"),
    }


def time_worked(report: dict[str, Any], filters: ReportFilters) -> dict[str, Any]:
    """Minutes and billable minutes per the chosen dimensions (a row a combination, none: `—`), the totals,
    and the hours of the largest rows as bars. Entries are not tickets, so no number links to a search."""
    names = _dimension_names()
    chosen = [str(d) for d in report.get("group_by", [])]
    rows: list[dict[str, Any]] = [
        {
            "values": [str(row.get(d)) if row.get(d) is not None else "—" for d in chosen],
            "entries": int(row["entries"]),
            "minutes": hours(int(row["minutes"])),
            "billable": hours(int(row["billable_minutes"])),
            "spent": int(row["minutes"]),
        }
        for row in report.get("rows", [])
    ]
    largest = sorted(rows, key=lambda row: -int(row["spent"]))[:12]
    chart = Bars.of(
        _("Hours worked"), [(" · ".join(row["values"]) or _("all"), round(row["spent"] / 60, 1)) for row in largest]
    )
    return {
        "columns": [names.get(d, d) for d in chosen],
        "rows": rows,
        "chart": chart,
        "entries": int(report.get("entries", 0)),
        "minutes": hours(int(report.get("minutes", 0))),
        "billable": hours(int(report.get("billable_minutes", 0))),
    }


REPORTS: dict[str, tuple[Report, bool]] = {  # the page's view of the API's answer; whether it takes a period
    "backlog": (backlog, False),
    "flow": (flow, True),
    "service-levels": (service_levels, True),
    "agents": (agents, True),
    "csat": (csat, True),
    "knowledge": (knowledge, True),
    "time": (time_worked, True),
}


def _asked(name: str, filters: ReportFilters, period: bool) -> dict[str, str | None]:
    """The report's query parameters: the time report sums time, which has no priority or channel, and is
    summed per agent unless the form chose otherwise."""
    asked = filters.api(period)
    if name == "time":
        asked |= {"priority": None, "channel": None, "group_by": filters.group_by or "agent"}
    else:
        asked.pop("group_by", None)
    return asked


def _not_for(request: Request, session: Session) -> Response | None:
    """The refusal a person who is neither a supervisor nor an admin gets; None for one who is."""
    if {"supervisor", "admin"} & set(session.roles):
        return None
    reason, title = _("The reports are for supervisors and admins."), _("Not for you")
    return render(request, "refused.html", session, 403, reason=reason, title=title, queues=queues_of(session))


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    async def group_choices(session: Session) -> list[str]:
        """The groups a supervisor supervises; every group of the tenant for an admin."""
        if "admin" not in session.roles:
            return sorted(session.groups)
        return [str(g["group_id"]) for g in (await gateway.groups(session.access_token))["groups"]]

    async def show(request: Request, name: str, session: Session) -> Response:
        titles = _titles()
        if name not in REPORTS:
            return render(request, "not_found.html", session, 404, queues=queues_of(session))
        if (refusal := _not_for(request, session)) is not None:
            return refusal
        view, period = REPORTS[name]
        filters = ReportFilters.of(request)
        errors: dict[str, str] = {}
        shown: dict[str, Any] = {}
        try:
            report = await gateway.report(session.access_token, name, **_asked(name, filters, period))
            shown = view(report, filters)
        except GatewayError as refused:
            if refused.status >= 500:
                raise
            errors = forms.beside(refused, FIELDS, "group" if refused.status == 403 else "from")
            report = {}
        return render(
            request,
            f"reports/{name}.html",
            session,
            422 if errors else 200,
            queues=queues_of(session),
            report_name=name,
            titles=titles,
            title=titles[name],
            period=period,
            filters=filters,
            shown_from=report.get("from"),
            shown_to=report.get("to"),
            groups=await group_choices(session),
            priorities=PRIORITIES,
            channels=KB_CHANNELS if name == "knowledge" else CHANNELS,
            dimensions=_dimension_names(),
            chosen=(filters.group_by or "agent").split(","),
            errors=errors,
            **shown,
        )

    @pages.get("/reports/time.csv")
    async def time_sheet(request: Request, session: Session = person) -> Response:
        """The time report as the API's CSV (a row per combination), to open in a spreadsheet."""
        if (refusal := _not_for(request, session)) is not None:
            return refusal
        asked = _asked("time", ReportFilters.of(request), True) | {"format": "csv"}
        try:
            sheet = await gateway.report_csv(session.access_token, "time", **asked)
        except GatewayError as refused:
            if refused.status >= 500:
                raise
            return Response(str(refused), status_code=refused.status, media_type="text/plain; charset=utf-8")
        disposition = {"Content-Disposition": 'attachment; filename="time.csv"'}
        return Response(sheet, media_type="text/csv; charset=utf-8", headers=disposition)

    @pages.get("/reports")
    async def first(request: Request, session: Session = person) -> Response:
        return await show(request, "backlog", session)

    @pages.get("/reports/{name}")
    async def one(request: Request, name: str, session: Session = person) -> Response:
        return await show(request, name, session)

    return pages
