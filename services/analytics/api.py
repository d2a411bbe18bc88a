"""Analytics' part of the gateway API: reports, as JSON or, with `?format=csv`, as CSV."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Response

from schemas.knowledge import Channel as KbChannel
from schemas.tickets import Channel, Priority
from services.analytics import reports, time_report
from services.analytics.projections import AnalyticsProjection
from services.analytics.reports import Bucket, Filters
from services.chassis.http import openapi
from services.chassis.http.auth import Forbidden, Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.chassis.runtime.errors import CommandRefusedError

Format = Annotated[Literal["json", "csv"], Query(description="`csv` for a spreadsheet.")]
From = Annotated[date | None, Query(alias="from", description="First day (UTC), default 30 days ago.")]
To = Annotated[date | None, Query(alias="to", description="Last day (UTC), inclusive; default today.")]
_DIMENSIONS = "|".join(time_report.COLUMNS)
GroupBy = Annotated[
    str,
    Query(
        pattern=rf"^({_DIMENSIONS})(,({_DIMENSIONS}))*$",
        description="What to sum per, one or more of customer, organisation, agent, group, activity, month (the"
        " month worked), comma-separated: `agent,month`.",
    ),
]


def _filters(
    who: CurrentIdentity,
    group: Annotated[str | None, Query(max_length=100, description="The ticket's group.")] = None,
    agent: Annotated[str | None, Query(max_length=100, description="The ticket's agent.")] = None,
    priority: Annotated[Priority | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
) -> Filters:
    """An admin sees every group; a supervisor only the groups they supervise."""
    within = None if who.principal.has(Role.ADMIN) else who.principal.groups
    if within is not None and group is not None and group not in within:
        raise Forbidden(f"{group!r} is not one of your groups", rule="group")
    return Filters(group, agent, priority.value if priority else None, channel.value if channel else None, within)


Filtered = Annotated[Filters, Depends(_filters)]


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=30)
    if start > end:
        raise CommandRefusedError("`from` is after `to`", "from")
    return start, end


def _csv(rows: list[dict[str, Any]], name: str) -> Response:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def router(projection: AnalyticsProjection) -> APIRouter:
    """Every report takes `group`, `agent`, `priority` and `channel` filters. Group and agent are the
    ticket's assignment now; for resolutions and reopenings, the assignment when they happened."""
    api = APIRouter(
        prefix="/v1/reports",
        tags=["reports"],
        dependencies=[requires(Role.SUPERVISOR, Role.ADMIN)],
        responses=openapi.media(200, "text/csv", "The report: JSON, or with `format=csv` a CSV file."),
    )
    view = projection.view

    @api.get("/backlog", response_model=None)
    async def get_backlog(
        who: CurrentIdentity, filters: Filtered, format: Format = "json"
    ) -> dict[str, Any] | Response:
        """The tenant's open tickets: in total, by status, priority, category, channel, type, group,
        agent, and by age since opened."""
        report = await asyncio.to_thread(reports.backlog, view, who.tenant, filters)
        if format == "csv":
            dimensions = {key.removeprefix("by_"): counts for key, counts in report.items() if key.startswith("by_")}
            rows = [
                {"dimension": dimension, "value": value, "open": count}
                for dimension, counts in dimensions.items()
                for value, count in counts.items()
            ]
            return _csv(rows, "backlog")
        return report

    @api.get("/flow", response_model=None)
    async def get_flow(
        who: CurrentIdentity,
        filters: Filtered,
        start: From = None,
        end: To = None,
        bucket: Annotated[Bucket, Query(description="Count per `day` or per `hour` (UTC).")] = "day",
        format: Format = "json",
    ) -> dict[str, Any] | Response:
        """Inflow and outflow per day or hour (UTC): tickets opened, resolved and reopened; the
        period's reopen rate."""
        first, last = _period(start, end)
        rows = await asyncio.to_thread(reports.flow, view, who.tenant, first, last, filters, bucket)
        if format == "csv":
            return _csv(rows, "flow")
        resolved = sum(r["resolved"] for r in rows)
        reopened = sum(r["reopened"] for r in rows)
        return {
            "tenant": who.tenant, "from": first, "to": last, "filters": filters.as_dict(), "bucket": bucket,
            "buckets": rows, "opened": sum(r["opened"] for r in rows), "resolved": resolved, "reopened": reopened,
            "reopen_rate_percent": round(100 * reopened / resolved, 2) if resolved else None,
        }  # fmt: skip

    @api.get("/service-levels", response_model=None)
    async def get_service_levels(
        who: CurrentIdentity, filters: Filtered, start: From = None, end: To = None, format: Format = "json"
    ) -> dict[str, Any] | Response:
        """Per SLA metric, the targets decided in the period: met in time, breached (the day it burned,
        answered since or not), breached and still open, compliance %, and the time taken by those met
        (median, p90), in business time and on the wall clock: first response time and time to resolve."""
        first, last = _period(start, end)
        report = await asyncio.to_thread(reports.service_levels, view, who.tenant, first, last, filters)
        if format == "csv":
            return _csv([{"metric": metric} | figures for metric, figures in report.items()], "service-levels")
        return {"tenant": who.tenant, "from": first, "to": last, "filters": filters.as_dict(), "metrics": report}

    @api.get("/agents", response_model=None)
    async def get_agents(
        who: CurrentIdentity, filters: Filtered, start: From = None, end: To = None, format: Format = "json"
    ) -> dict[str, Any] | Response:
        """Agent workload and throughput: open tickets each agent holds now, tickets they resolved in the
        period (credited to whoever the ticket was assigned to when it was resolved)."""
        first, last = _period(start, end)
        rows = await asyncio.to_thread(reports.workload, view, who.tenant, first, last, filters)
        if format == "csv":
            return _csv(rows, "agents")
        return {"tenant": who.tenant, "from": first, "to": last, "filters": filters.as_dict(), "agents": rows}

    @api.get("/csat", response_model=None)
    async def get_csat(
        who: CurrentIdentity, filters: Filtered, start: From = None, end: To = None, format: Format = "json"
    ) -> dict[str, Any] | Response:
        """Customer satisfaction: surveys sent on resolve in the period, response rate, average score (1-5)."""
        first, last = _period(start, end)
        report = await asyncio.to_thread(reports.csat, view, who.tenant, first, last, filters)
        if format == "csv":
            return _csv([{k: v for k, v in report.items() if k != "scores"} | report["scores"]], "csat")
        return {"tenant": who.tenant, "from": first, "to": last, "filters": filters.as_dict()} | report

    @api.get("/knowledge", response_model=None)
    async def get_knowledge(
        who: CurrentIdentity,
        start: From = None,
        end: To = None,
        channel: Annotated[KbChannel | None, Query(description="Only reads and attempts of this channel.")] = None,
        format: Format = "json",
    ) -> dict[str, Any] | Response:
        """The knowledge base: views and the helpful share per article (of those who answered "did this
        help?"), and the deflection rate per channel and day: self-service attempts solved by an article
        without a ticket, of all attempts that ended (solved or a ticket opened anyway)."""
        first, last = _period(start, end)
        picked = channel.value if channel else None
        report = await asyncio.to_thread(reports.knowledge, view, who.tenant, first, last, picked)
        if format == "csv":
            return _csv(report["deflection"], "knowledge-deflection")
        return {"tenant": who.tenant, "from": first, "to": last, "channel": picked} | report

    @api.get("/macros", response_model=None)
    async def get_macros(
        who: CurrentIdentity, start: From = None, end: To = None, format: Format = "json"
    ) -> dict[str, Any] | Response:
        """Macros applied in the period: uses per macro and, within it, per agent who applied it; and uses
        per agent (`format=csv`: a row per macro and agent)."""
        first, last = _period(start, end)
        report = await asyncio.to_thread(reports.macros, view, who.tenant, first, last)
        if format == "csv":
            rows = [{"macro_id": m["macro_id"]} | agent for m in report["macros"] for agent in m["agents"]]
            return _csv(rows, "macros")
        return {"tenant": who.tenant, "from": first, "to": last} | report

    @api.get("/time", response_model=None)
    async def get_time(
        who: CurrentIdentity,
        group_by: GroupBy = "agent",
        start: From = None,
        end: To = None,
        group: Annotated[str | None, Query(max_length=100, description="Only time credited to this group.")] = None,
        agent: Annotated[str | None, Query(max_length=100, description="Only this agent's time.")] = None,
        format: Format = "json",
    ) -> dict[str, Any] | Response:
        """Time worked on tickets on the days in the period (the day worked, UTC): entries, minutes and billable
        minutes per `group_by`, and the totals. A corrected entry counts as its correction says. Each entry
        counts for the requester (customer), organisation and group its ticket had when the time was logged; the
        organisation is the ticket's (null when it was opened without one). A supervisor sees their groups'."""
        within = None if who.principal.has(Role.ADMIN) else who.principal.groups
        if within is not None and group is not None and group not in within:
            raise Forbidden(f"{group!r} is not one of your groups", rule="group")
        first, last = _period(start, end)
        chosen: list[Any] = group_by.split(",")
        report = await asyncio.to_thread(
            time_report.time_worked, view, who.tenant, first, last, chosen, group, agent, within
        )
        if format == "csv":
            return _csv(report["rows"], "time")
        return {"tenant": who.tenant, "from": first, "to": last, "group": group, "agent": agent} | report

    return api


def create_app(app: FastAPI, projection: AnalyticsProjection) -> FastAPI:
    app.include_router(router(projection))
    return app
