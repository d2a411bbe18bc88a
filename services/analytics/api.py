"""Analytics' part of the gateway API: reports, as JSON or, with `?format=csv`, as CSV."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Response

from schemas.tickets import Channel, Priority
from services.analytics import service_levels
from services.analytics.projections import BacklogProjection
from services.chassis.errors import CommandRefusedError
from services.chassis.identity import CurrentIdentity

Format = Annotated[Literal["json", "csv"], Query(description="`csv` for a spreadsheet.")]
From = Annotated[date | None, Query(alias="from", description="First day (UTC), default 30 days ago.")]
To = Annotated[date | None, Query(description="Last day (UTC), inclusive; default today.")]


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


def router(backlog: BacklogProjection) -> APIRouter:
    api = APIRouter(prefix="/v1/reports", tags=["reports"])

    @api.get("/backlog", response_model=None)
    async def get_backlog(who: CurrentIdentity, format: Format = "json") -> dict[str, Any] | Response:
        """The tenant's open tickets, in total and by status, priority, category, channel and type."""
        report = await asyncio.to_thread(backlog.backlog, who.tenant)
        if format == "csv":
            dimensions = {key.removeprefix("by_"): counts for key, counts in report.items() if key.startswith("by_")}
            rows = [{"dimension": dimension, "value": value, "open": count}
                    for dimension, counts in dimensions.items() for value, count in counts.items()]  # fmt: skip
            return _csv(rows, "backlog")
        return report

    @api.get("/flow", response_model=None)
    async def get_flow(
        who: CurrentIdentity, start: From = None, end: To = None, format: Format = "json"
    ) -> dict[str, Any] | Response:
        """Per day (UTC): tickets opened, resolved and reopened; the period's reopen rate."""
        first, last = _period(start, end)
        opened = {r["day"]: r["opened"] for r in await asyncio.to_thread(backlog.flow, who.tenant)}
        out = {r["day"]: r for r in await asyncio.to_thread(service_levels.outflow_by_day, backlog.view,
                                                                  who.tenant, first, last)}  # fmt: skip
        days = sorted(d for d in set(opened) | set(out) if first.isoformat() <= d <= last.isoformat())
        rows = [{"day": d, "opened": opened.get(d, 0), "resolved": out.get(d, {}).get("resolved", 0),
                 "reopened": out.get(d, {}).get("reopened", 0)} for d in days]  # fmt: skip
        if format == "csv":
            return _csv(rows, "flow")
        resolved = sum(r["resolved"] for r in rows)
        reopened = sum(r["reopened"] for r in rows)
        return {
            "tenant": who.tenant, "from": first, "to": last, "days": rows,
            "reopen_rate_percent": round(100 * reopened / resolved, 2) if resolved else None,
        }  # fmt: skip

    @api.get("/service-levels", response_model=None)
    async def get_service_levels(
        who: CurrentIdentity, start: From = None, end: To = None,
        priority: Annotated[Priority | None, Query()] = None, channel: Annotated[Channel | None, Query()] = None,
        group: Annotated[str | None, Query(max_length=100, description="The ticket's group now.")] = None,
        format: Format = "json",
    ) -> dict[str, Any] | Response:  # fmt: skip
        """Per SLA metric, the targets that ended in the period: met in time, breached, compliance %,
        and the business time taken (median, p90) — first response time and time to resolve."""
        first, last = _period(start, end)
        report = await asyncio.to_thread(
            service_levels.service_levels, backlog.view, who.tenant, first, last,
            priority.value if priority else None, channel.value if channel else None, group,
        )  # fmt: skip
        if format == "csv":
            return _csv([{"metric": metric} | figures for metric, figures in report.items()], "service-levels")
        filters = {"priority": priority, "channel": channel, "group": group}
        return {"tenant": who.tenant, "from": first, "to": last} | filters | {"metrics": report}

    @api.get("/agents", response_model=None)
    async def get_agents(
        who: CurrentIdentity, start: From = None, end: To = None, format: Format = "json"
    ) -> dict[str, Any] | Response:
        """Agent workload and throughput: open tickets each agent holds now, tickets they resolved in the
        period (credited to whoever the ticket was assigned to when it was resolved)."""
        first, last = _period(start, end)
        rows = await asyncio.to_thread(service_levels.workload, backlog.view, who.tenant, first, last)
        if format == "csv":
            return _csv(rows, "agents")
        return {"tenant": who.tenant, "from": first, "to": last, "agents": rows}

    @api.get("/csat", response_model=None)
    async def get_csat(
        who: CurrentIdentity, start: From = None, end: To = None, format: Format = "json"
    ) -> dict[str, Any] | Response:
        """Customer satisfaction: surveys sent on resolve in the period, response rate, average score (1-5)."""
        first, last = _period(start, end)
        report = await asyncio.to_thread(service_levels.csat, backlog.view, who.tenant, first, last)
        if format == "csv":
            return _csv([{k: v for k, v in report.items() if k != "scores"} | report["scores"]], "csat")
        return {"tenant": who.tenant, "from": first, "to": last} | report

    return api


def create_app(app: FastAPI, backlog: BacklogProjection) -> FastAPI:
    app.include_router(router(backlog))
    return app
