"""The reports, read from the analytics projection's rows, per tenant and period, filtered by
the ticket's group, agent, priority and channel.

Group and agent mean the ticket's assignment now, except for resolutions and reopenings,
which count for the group and agent the ticket was assigned to when they happened (the
agent who resolved it gets the credit, even if it moved on later).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from services.chassis.storage.views import SqlView

_DIMENSIONS = ("status", "priority", "category", "channel", "type", "group_id", "agent_id")


@dataclass(frozen=True)
class Filters:
    """Which tickets a report counts; None is any."""

    group: str | None = None
    agent: str | None = None
    priority: str | None = None
    channel: str | None = None
    within: frozenset[str] | None = None  # groups a supervisor may see; None: every group (an admin)

    def where(self, tickets: str = "t", credited: str | None = None) -> tuple[str, dict[str, Any]]:
        """SQL conditions on the tickets table aliased `tickets` (group and agent on `credited`
        when given), and their parameters."""
        owner = credited or tickets
        columns = {
            "f_group": (f"{owner}.group_id", self.group), "f_agent": (f"{owner}.agent_id", self.agent),
            "f_priority": (f"{tickets}.priority", self.priority), "f_channel": (f"{tickets}.channel", self.channel),
        }  # fmt: skip
        chosen = {name: (column, value) for name, (column, value) in columns.items() if value is not None}
        sql = "".join(f" AND {column} = :{name}" for name, (column, _) in chosen.items())
        params = {name: value for name, (_, value) in chosen.items()}
        if self.within is not None:
            names = {f"f_within{n}": group for n, group in enumerate(sorted(self.within))}
            sql += f" AND {owner}.group_id IN ({', '.join(':' + n for n in names)})" if names else " AND 1 = 0"
            params |= names
        return sql, params

    def as_dict(self) -> dict[str, str | None]:
        return {"group": self.group, "agent": self.agent, "priority": self.priority, "channel": self.channel}


def _period(tenant: str, start: date, end: date) -> dict[str, Any]:
    return {"tenant": tenant, "start": start.isoformat(), "end": end.isoformat()}


AGES = ((1, "under 1 day"), (3, "1-3 days"), (7, "3-7 days"), (30, "7-30 days"), (None, "over 30 days"))


def backlog(view: SqlView, tenant: str, filters: Filters = Filters(), now: datetime | None = None) -> dict[str, Any]:
    """Open tickets now, in total, by each dimension, and by age (time since opened, in buckets)."""
    now = now or datetime.now(UTC)
    conditions, params = filters.where()
    rows = view.query(  # a tenant's open backlog is thousands of rows, not millions: counted here, once
        f"SELECT {', '.join(_DIMENSIONS)}, opened_at FROM analytics_tickets t WHERE t.tenant = :tenant"
        f" AND t.status IN ('new', 'open', 'pending'){conditions}",
        params | {"tenant": tenant},
    )
    report: dict[str, Any] = {"tenant": tenant, "filters": filters.as_dict(), "open": len(rows)}
    for dimension in _DIMENSIONS:
        counts: dict[str, int] = {}
        for row in rows:
            key = row[dimension] if row[dimension] is not None else "none"
            counts[key] = counts.get(key, 0) + 1
        report[f"by_{dimension.removesuffix('_id')}"] = dict(sorted(counts.items()))
    ages = {label: 0 for _, label in AGES}
    for row in rows:
        days = (now - datetime.fromisoformat(row["opened_at"])) / timedelta(days=1)
        ages[next(label for limit, label in AGES if limit is None or days < limit)] += 1
    report["by_age"] = ages
    return report


Bucket = Literal["day", "hour"]
_WIDTH = {"day": 10, "hour": 13}  # characters of a UTC ISO instant: 2026-11-23 or 2026-11-23T14


def _between(tenant: str, start: date, end: date) -> dict[str, Any]:
    """Parameters for instants (ISO text) from `start`'s first moment to `end`'s last, UTC."""
    return {"tenant": tenant, "start": start.isoformat(), "after": (end + timedelta(days=1)).isoformat()}


def flow(
    view: SqlView, tenant: str, start: date, end: date, filters: Filters = Filters(), bucket: Bucket = "day"
) -> list[dict[str, Any]]:
    """Per day or hour (UTC) in [start, end]: tickets opened, resolved and reopened."""
    width = _WIDTH[bucket]
    on_tickets, extra = filters.where()
    opened = view.query(
        f"SELECT substr(t.opened_at, 1, {width}) AS k, 'opened' AS kind, COUNT(*) AS n FROM analytics_tickets t"
        f" WHERE t.tenant = :tenant AND t.opened_at >= :start AND t.opened_at < :after{on_tickets} GROUP BY 1",
        _between(tenant, start, end) | extra,
    )
    on_outcomes, extra = filters.where(credited="o")
    outcomes = view.query(
        f"SELECT substr(o.at, 1, {width}) AS k, o.kind AS kind, COUNT(*) AS n FROM analytics_outcomes o"
        " JOIN analytics_tickets t ON t.tenant = o.tenant AND t.ticket_id = o.ticket_id WHERE o.tenant = :tenant"
        f" AND o.at >= :start AND o.at < :after{on_outcomes} GROUP BY 1, 2",
        _between(tenant, start, end) | extra,
    )
    buckets: dict[str, dict[str, Any]] = {}
    for row in opened + outcomes:
        label = row["k"] if bucket == "day" else f"{row['k']}:00:00+00:00"
        buckets.setdefault(label, {bucket: label, "opened": 0, "resolved": 0, "reopened": 0})[row["kind"]] = row["n"]
    return [buckets[label] for label in sorted(buckets)]


def workload(view: SqlView, tenant: str, start: date, end: date, filters: Filters = Filters()) -> list[dict[str, Any]]:
    """Per agent (and group): open tickets held now, tickets resolved in [start, end]."""
    on_tickets, extra = filters.where()
    open_rows = view.query(
        "SELECT t.agent_id AS agent_id, t.group_id AS group_id, COUNT(*) AS n FROM analytics_tickets t"
        " WHERE t.tenant = :tenant AND t.agent_id IS NOT NULL AND t.status IN ('new', 'open', 'pending')"
        f"{on_tickets} GROUP BY t.agent_id, t.group_id",
        {"tenant": tenant} | extra,
    )
    on_outcomes, extra = filters.where(credited="o")
    resolved_rows = view.query(
        "SELECT o.agent_id AS agent_id, o.group_id AS group_id, COUNT(*) AS n FROM analytics_outcomes o"
        " JOIN analytics_tickets t ON t.tenant = o.tenant AND t.ticket_id = o.ticket_id WHERE o.tenant = :tenant"
        " AND o.kind = 'resolved' AND o.agent_id IS NOT NULL AND o.at >= :start AND o.at < :after"
        f"{on_outcomes} GROUP BY o.agent_id, o.group_id",
        _between(tenant, start, end) | extra,
    )
    table: dict[tuple[str, str | None], dict[str, Any]] = {}
    for row in open_rows:
        table.setdefault((row["agent_id"], row["group_id"]), {"open": 0, "resolved": 0})["open"] = row["n"]
    for row in resolved_rows:
        table.setdefault((row["agent_id"], row["group_id"]), {"open": 0, "resolved": 0})["resolved"] = row["n"]
    return [{"agent_id": a, "group_id": g} | counts for (a, g), counts in sorted(table.items(), key=str)]


def csat(view: SqlView, tenant: str, start: date, end: date, filters: Filters = Filters()) -> dict[str, Any]:
    """Surveys sent in [start, end]: how many were answered, the average score and how they spread."""
    conditions, extra = filters.where()
    rows = view.query(
        "SELECT t.score AS score FROM analytics_tickets t WHERE t.tenant = :tenant AND t.survey_on >= :start"
        f" AND t.survey_on <= :end{conditions}",
        _period(tenant, start, end) | extra,
    )
    scores = [r["score"] for r in rows if r["score"] is not None]
    return {
        "surveys": len(rows),
        "answered": len(scores),
        "response_rate_percent": round(100 * len(scores) / len(rows), 2) if rows else None,
        "average_score": round(statistics.fmean(scores), 2) if scores else None,
        "scores": {str(n): scores.count(n) for n in range(1, 6)},
    }


def service_levels(view: SqlView, tenant: str, start: date, end: date, filters: Filters = Filters()) -> dict[str, Any]:
    """Per metric, the targets decided in [start, end] (each cycle a target: a next response per customer
    message, a resolution per opening, so a reopened ticket's new breach shows beside its earlier in-time
    resolution, and neither changes after the fact): met in time (the day they were met), or
    breached (the day they burned, answered since or not); of those breached, how many are still
    open (unmet, on a ticket not resolved); compliance %; and for the targets met in the period the
    time they took, in business time (median, p90) and on the wall clock (median, p90)."""
    conditions, extra = filters.where()
    joined = (
        "FROM analytics_target_cycles s JOIN analytics_tickets t ON t.tenant = s.tenant AND t.ticket_id = s.ticket_id"
        " WHERE s.tenant = :tenant"
    )
    met = view.query(
        "SELECT s.metric AS metric, s.used_seconds AS used, s.breached AS breached, s.started_at AS started_at,"
        f" s.met_at AS met_at {joined} AND s.state = 'met' AND s.met_on >= :start AND s.met_on <= :end{conditions}",
        _period(tenant, start, end) | extra,
    )
    breached = view.query(
        f"SELECT s.metric AS metric, s.state <> 'met' AND t.status IN ('new', 'open', 'pending') AS still_open"
        f" {joined} AND s.breached = 1 AND s.breached_on >= :start AND s.breached_on <= :end{conditions}",
        _period(tenant, start, end) | extra,
    )
    report: dict[str, Any] = {}
    for metric in ("first_response", "next_response", "resolution"):
        ended = [r for r in met if r["metric"] == metric]
        used = sorted(r["used"] for r in ended)
        walls = sorted(_seconds_between(r["started_at"], r["met_at"]) for r in ended if r["started_at"] and r["met_at"])
        in_time = sum(1 for r in ended if not r["breached"])
        burned = [r for r in breached if r["metric"] == metric]
        decided = in_time + len(burned)
        report[metric] = {
            "targets": decided,
            "met_in_time": in_time,
            "breached": len(burned),
            "breached_still_open": sum(1 for r in burned if r["still_open"]),
            "compliance_percent": round(100 * in_time / decided, 2) if decided else None,
            "median_seconds": statistics.median(used) if used else None,
            "p90_seconds": _percentile(used, 0.9) if used else None,
            "median_wall_clock_seconds": statistics.median(walls) if walls else None,
            "p90_wall_clock_seconds": _percentile(walls, 0.9) if walls else None,
        }
    return report


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _percentile(ordered: list[int] | list[float], q: float) -> float:
    """Linear interpolation between closest ranks (as PostgreSQL's percentile_cont)."""
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 3)


def knowledge(view: SqlView, tenant: str, start: date, end: date, channel: str | None = None) -> dict[str, Any]:
    """The knowledge base in the period: per article, its reads and how many found it helpful (the helpful
    share of those who answered); per channel and day, self-service attempts solved by an article and those
    that opened a ticket anyway, and the deflection rate, solved / (solved + ticket opened)."""
    params = _period(tenant, start, end) | ({"channel": channel} if channel else {})
    only = " AND channel = :channel" if channel else ""
    read_on = " AND r.channel = :channel" if channel else ""
    articles = view.query(
        "SELECT r.article_id, a.title, a.language, a.status,"
        " SUM(CASE WHEN r.kind = 'viewed' THEN 1 ELSE 0 END) AS views,"
        " SUM(CASE WHEN r.kind = 'helpful' THEN 1 ELSE 0 END) AS helpful,"
        " SUM(CASE WHEN r.kind = 'unhelpful' THEN 1 ELSE 0 END) AS unhelpful"
        " FROM analytics_kb_reads r LEFT JOIN analytics_kb_articles a"
        " ON a.tenant = r.tenant AND a.article_id = r.article_id"
        f" WHERE r.tenant = :tenant AND r.day BETWEEN :start AND :end{read_on}"
        " GROUP BY r.article_id, a.title, a.language, a.status",
        params,
    )
    per_article = [
        {
            "article_id": row["article_id"], "title": row["title"], "language": row["language"],
            "status": row["status"], "views": int(row["views"]), "helpful": int(row["helpful"]),
            "unhelpful": int(row["unhelpful"]), "helpful_percent": _percent(row["helpful"], row["unhelpful"]),
        }
        for row in articles
    ]  # fmt: skip
    per_article.sort(key=lambda a: (-a["views"], -a["helpful"], a["article_id"]))
    days = view.query(
        "SELECT day, channel, SUM(CASE WHEN outcome = 'solved' THEN 1 ELSE 0 END) AS solved,"
        " SUM(CASE WHEN outcome = 'ticket_opened' THEN 1 ELSE 0 END) AS ticket_opened"
        f" FROM analytics_kb_self_service WHERE tenant = :tenant AND day BETWEEN :start AND :end{only}"
        " GROUP BY day, channel ORDER BY day, channel",
        params,
    )
    deflection = [
        {"day": row["day"], "channel": row["channel"], "solved": int(row["solved"]),
         "ticket_opened": int(row["ticket_opened"]),
         "deflection_rate_percent": _percent(row["solved"], row["ticket_opened"])}
        for row in days
    ]  # fmt: skip
    solved = sum(d["solved"] for d in deflection)
    opened = sum(d["ticket_opened"] for d in deflection)
    by_channel: dict[str, dict[str, Any]] = {}
    for d in deflection:
        figures = by_channel.setdefault(d["channel"], {"solved": 0, "ticket_opened": 0})
        figures["solved"] += d["solved"]
        figures["ticket_opened"] += d["ticket_opened"]
    for figures in by_channel.values():
        figures["deflection_rate_percent"] = _percent(figures["solved"], figures["ticket_opened"])
    return {
        "articles": per_article,
        "deflection": deflection,
        "by_channel": dict(sorted(by_channel.items())),
        "views": sum(a["views"] for a in per_article),
        "solved": solved,
        "ticket_opened": opened,
        "deflection_rate_percent": _percent(solved, opened),
    }


def macros(view: SqlView, tenant: str, start: date, end: date) -> dict[str, Any]:
    """Macros applied in the period: per macro its uses and who applied it how often, most used first; and
    per agent their uses of macros."""
    rows = view.query(
        "SELECT macro_id, agent_id, COUNT(*) AS uses FROM analytics_macro_uses"
        " WHERE tenant = :tenant AND day BETWEEN :start AND :end GROUP BY macro_id, agent_id",
        _period(tenant, start, end),
    )
    per_macro: dict[str, dict[str, int]] = {}
    per_agent: dict[str, int] = {}
    for row in rows:
        per_macro.setdefault(row["macro_id"], {})[row["agent_id"]] = int(row["uses"])
        per_agent[row["agent_id"]] = per_agent.get(row["agent_id"], 0) + int(row["uses"])
    used: list[dict[str, Any]] = [
        {"macro_id": macro_id, "uses": sum(agents.values()),
         "agents": [{"agent_id": a, "uses": n} for a, n in sorted(agents.items(), key=lambda i: (-i[1], i[0]))]}
        for macro_id, agents in per_macro.items()
    ]  # fmt: skip
    used.sort(key=lambda m: (-m["uses"], m["macro_id"]))
    agents = [{"agent_id": a, "uses": n} for a, n in sorted(per_agent.items(), key=lambda i: (-i[1], i[0]))]
    return {"macros": used, "agents": agents, "uses": sum(per_agent.values())}


def _percent(part: int, other: int) -> float | None:
    """`part`'s share of `part + other`, in percent to two places; None when both are nought."""
    total = int(part) + int(other)
    return round(100 * int(part) / total, 2) if total else None
