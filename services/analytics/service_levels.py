"""Service levels as analytics keeps them: every SLA target of every ticket with its outcome,
and the daily outflow (resolved, reopened). Written by the backlog projection in the
same transaction as everything else it applies; read by the reports."""

from __future__ import annotations

import statistics
from datetime import date
from typing import Any

from schemas.envelope import Envelope
from schemas.sla import SlaBreachedV1, SlaMetV1, SlaStartedV1
from services.chassis.views import Sql, SqlView

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS analytics_targets (
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        metric TEXT NOT NULL,
        policy_id TEXT NOT NULL,
        target_seconds INTEGER NOT NULL,
        used_seconds INTEGER NOT NULL,
        state TEXT NOT NULL,
        breached INTEGER NOT NULL,
        met_on TEXT,
        PRIMARY KEY (tenant, ticket_id, metric))""",
    """CREATE TABLE IF NOT EXISTS analytics_outflow (
        tenant TEXT NOT NULL,
        day TEXT NOT NULL,
        resolved INTEGER NOT NULL,
        reopened INTEGER NOT NULL,
        PRIMARY KEY (tenant, day))""",
    """CREATE TABLE IF NOT EXISTS analytics_csat (
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        requested_on TEXT NOT NULL,
        score INTEGER,
        rated_on TEXT,
        PRIMARY KEY (tenant, ticket_id))""",
    """CREATE TABLE IF NOT EXISTS analytics_assignment (
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        group_id TEXT,
        agent_id TEXT,
        PRIMARY KEY (tenant, ticket_id))""",
    """CREATE TABLE IF NOT EXISTS analytics_resolutions (
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        position BIGINT NOT NULL,
        group_id TEXT,
        agent_id TEXT,
        resolved_on TEXT NOT NULL,
        PRIMARY KEY (tenant, ticket_id, position))""",
]
TABLES = ("analytics_targets", "analytics_outflow", "analytics_csat", "analytics_assignment", "analytics_resolutions")


def target_started(sql: Sql, envelope: Envelope, data: SlaStartedV1) -> None:
    """A target started, or was re-targeted: its numbers change, a breach already counted stays."""
    sql.execute(
        "INSERT INTO analytics_targets VALUES (:tenant, :ticket_id, :metric, :policy_id, :target, :used, 'running', 0,"
        " NULL) ON CONFLICT (tenant, ticket_id, metric) DO UPDATE SET policy_id = excluded.policy_id,"
        " target_seconds = excluded.target_seconds, used_seconds = excluded.used_seconds, state = 'running',"
        " met_on = NULL",
        {"tenant": envelope.tenant, "ticket_id": data.ticket_id, "metric": data.metric.value,
         "policy_id": data.policy_id, "target": data.target_seconds, "used": data.business_seconds_used},
    )  # fmt: skip


def target_breached(sql: Sql, envelope: Envelope, data: SlaBreachedV1) -> None:
    sql.execute(
        "UPDATE analytics_targets SET breached = 1 WHERE tenant = :tenant AND ticket_id = :ticket_id"
        " AND metric = :metric",
        {"tenant": envelope.tenant, "ticket_id": data.ticket_id, "metric": data.metric.value},
    )


def target_met(sql: Sql, envelope: Envelope, data: SlaMetV1) -> None:
    sql.execute(
        "UPDATE analytics_targets SET state = 'met', used_seconds = :used, met_on = :day,"
        " breached = CASE WHEN :breached = 1 THEN 1 ELSE breached END"
        " WHERE tenant = :tenant AND ticket_id = :ticket_id AND metric = :metric",
        {"tenant": envelope.tenant, "ticket_id": data.ticket_id, "metric": data.metric.value,
         "used": data.business_seconds_used, "day": envelope.occurred_at.date().isoformat(),
         "breached": 1 if data.breached else 0},
    )  # fmt: skip


def outflow(sql: Sql, envelope: Envelope, column: str) -> None:
    """One more ticket `column` (resolved or reopened) on the event's day."""
    assert column in ("resolved", "reopened")
    first = {"resolved": 1 if column == "resolved" else 0, "reopened": 1 if column == "reopened" else 0}
    sql.execute(
        "INSERT INTO analytics_outflow VALUES (:tenant, :day, :resolved, :reopened) ON CONFLICT (tenant, day)"
        f" DO UPDATE SET {column} = analytics_outflow.{column} + 1",
        {"tenant": envelope.tenant, "day": envelope.occurred_at.date().isoformat()} | first,
    )


def assigned(sql: Sql, envelope: Envelope, ticket_id: str, group_id: str | None, agent_id: str | None) -> None:
    sql.execute(
        "INSERT INTO analytics_assignment VALUES (:tenant, :ticket_id, :group_id, :agent_id) ON CONFLICT"
        " (tenant, ticket_id) DO UPDATE SET group_id = excluded.group_id, agent_id = excluded.agent_id",
        {"tenant": envelope.tenant, "ticket_id": ticket_id, "group_id": group_id, "agent_id": agent_id},
    )


def resolved_by(sql: Sql, envelope: Envelope, ticket_id: str) -> None:
    """A resolution, credited to the agent and group the ticket was assigned to then."""
    sql.execute(
        "INSERT INTO analytics_resolutions SELECT b.tenant, b.ticket_id, :position, a.group_id, a.agent_id, :day"
        " FROM analytics_backlog b LEFT JOIN analytics_assignment a ON a.tenant = b.tenant"
        " AND a.ticket_id = b.ticket_id WHERE b.tenant = :tenant AND b.ticket_id = :ticket_id",
        {"tenant": envelope.tenant, "ticket_id": ticket_id, "position": envelope.position,
         "day": envelope.occurred_at.date().isoformat()},
    )  # fmt: skip


def workload(view: SqlView, tenant: str, start: date, end: date) -> list[dict[str, Any]]:
    """Per agent (and group): open tickets held now, tickets resolved in [start, end]."""
    open_rows = view.query(
        "SELECT a.agent_id AS agent_id, a.group_id AS group_id, COUNT(*) AS n FROM analytics_assignment a"
        " JOIN analytics_backlog b ON b.tenant = a.tenant AND b.ticket_id = a.ticket_id"
        " WHERE a.tenant = :tenant AND a.agent_id IS NOT NULL AND b.status IN ('new', 'open', 'pending')"
        " GROUP BY a.agent_id, a.group_id",
        {"tenant": tenant},
    )
    resolved_rows = view.query(
        "SELECT agent_id, group_id, COUNT(*) AS n FROM analytics_resolutions WHERE tenant = :tenant"
        " AND agent_id IS NOT NULL AND resolved_on >= :start AND resolved_on <= :end GROUP BY agent_id, group_id",
        {"tenant": tenant, "start": start.isoformat(), "end": end.isoformat()},
    )
    table: dict[tuple[str, str | None], dict[str, Any]] = {}
    for row in open_rows:
        table.setdefault((row["agent_id"], row["group_id"]), {"open": 0, "resolved": 0})["open"] = row["n"]
    for row in resolved_rows:
        table.setdefault((row["agent_id"], row["group_id"]), {"open": 0, "resolved": 0})["resolved"] = row["n"]
    return [{"agent_id": a, "group_id": g} | counts for (a, g), counts in sorted(table.items(), key=str)]


def survey_requested(sql: Sql, envelope: Envelope, ticket_id: str) -> None:
    """A survey went out (again, after a reopen and a new resolve: the latest counts)."""
    sql.execute(
        "INSERT INTO analytics_csat VALUES (:tenant, :ticket_id, :day, NULL, NULL) ON CONFLICT (tenant, ticket_id)"
        " DO UPDATE SET requested_on = excluded.requested_on",
        {"tenant": envelope.tenant, "ticket_id": ticket_id, "day": envelope.occurred_at.date().isoformat()},
    )


def rated(sql: Sql, envelope: Envelope, ticket_id: str, score: int) -> None:
    sql.execute(
        "UPDATE analytics_csat SET score = :score, rated_on = :day WHERE tenant = :tenant AND ticket_id = :ticket_id",
        {"tenant": envelope.tenant, "ticket_id": ticket_id, "score": score,
         "day": envelope.occurred_at.date().isoformat()},
    )  # fmt: skip


def csat(view: SqlView, tenant: str, start: date, end: date) -> dict[str, Any]:
    """Surveys sent in [start, end]: how many were answered, the average score and how they spread."""
    rows = view.query(
        "SELECT score FROM analytics_csat WHERE tenant = :tenant AND requested_on >= :start AND requested_on <= :end",
        {"tenant": tenant, "start": start.isoformat(), "end": end.isoformat()},
    )
    scores = [r["score"] for r in rows if r["score"] is not None]
    return {
        "surveys": len(rows), "answered": len(scores),
        "response_rate_percent": round(100 * len(scores) / len(rows), 2) if rows else None,
        "average_score": round(statistics.fmean(scores), 2) if scores else None,
        "scores": {str(n): scores.count(n) for n in range(1, 6)},
    }  # fmt: skip


def service_levels(
    view: SqlView, tenant: str, start: date, end: date, priority: str | None = None, channel: str | None = None,
    group: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Per metric, targets that ended in [start, end]: how many, met in time, breached, compliance %,
    and the business time used (median, p90); optionally of one priority, channel or (current) group."""
    params: dict[str, Any] = {"tenant": tenant, "start": start.isoformat(), "end": end.isoformat()}
    where = "t.tenant = :tenant AND t.state = 'met' AND t.met_on >= :start AND t.met_on <= :end"
    for column, value in (("b.priority", priority), ("b.channel", channel), ("a.group_id", group)):
        if value is not None:
            name = column.split(".")[1]
            where += f" AND {column} = :{name}"
            params[name] = value
    rows = view.query(
        "SELECT t.metric AS metric, t.used_seconds AS used, t.breached AS breached FROM analytics_targets t"
        " JOIN analytics_backlog b ON b.tenant = t.tenant AND b.ticket_id = t.ticket_id"
        f" LEFT JOIN analytics_assignment a ON a.tenant = t.tenant AND a.ticket_id = t.ticket_id WHERE {where}",
        params,
    )
    report: dict[str, Any] = {}
    for metric in ("first_response", "next_response", "resolution"):
        used = sorted(r["used"] for r in rows if r["metric"] == metric)
        breached = sum(1 for r in rows if r["metric"] == metric and r["breached"])
        report[metric] = {
            "targets": len(used), "met_in_time": len(used) - breached, "breached": breached,
            "compliance_percent": round(100 * (len(used) - breached) / len(used), 2) if used else None,
            "median_seconds": statistics.median(used) if used else None,
            "p90_seconds": _percentile(used, 0.9) if used else None,
        }  # fmt: skip
    return report


def _percentile(ordered: list[int], q: float) -> float:
    """Linear interpolation between closest ranks (as PostgreSQL's percentile_cont)."""
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 3)


def outflow_by_day(view: SqlView, tenant: str, start: date, end: date) -> list[dict[str, Any]]:
    return view.query(
        "SELECT day, resolved, reopened FROM analytics_outflow WHERE tenant = :tenant AND day >= :start"
        " AND day <= :end ORDER BY day",
        {"tenant": tenant, "start": start.isoformat(), "end": end.isoformat()},
    )
