"""The time report: minutes worked and billable minutes, per customer (the ticket's requester),
organisation, agent, group, activity and month of the day worked, or any of them together, over the
entries that count (one a later entry corrected does not), read from the analytics projection's rows.

An entry counts for the requester, organisation and group its ticket had when the time was logged, and
for the day worked (`from`/`to` select on it). The organisation is the one the ticket was opened with:
intake knows no organisation of a requester otherwise (none: `null`).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from services.chassis.storage.views import SqlView

Dimension = Literal["customer", "organisation", "agent", "group", "activity", "month"]
COLUMNS: dict[str, str] = {
    "customer": "requester_id",
    "organisation": "organisation",
    "agent": "agent_id",
    "group": "group_id",
    "activity": "activity",
    "month": "substr(worked_on, 1, 7)",
}


def time_worked(
    view: SqlView,
    tenant: str,
    start: date,
    end: date,
    group_by: list[Dimension],
    group: str | None = None,
    agent: str | None = None,
    within: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Per combination of `group_by`'s values, the entries, minutes and billable minutes worked in [start, end];
    and the totals. `within`: the groups a supervisor may see (None: every group)."""
    params: dict[str, Any] = {"tenant": tenant, "start": start.isoformat(), "end": end.isoformat()}
    conditions = ""
    for name, column, value in (("f_group", "group_id", group), ("f_agent", "agent_id", agent)):
        if value is not None:
            conditions += f" AND {column} = :{name}"
            params[name] = value
    if within is not None:
        names = {f"f_within{n}": g for n, g in enumerate(sorted(within))}
        conditions += f" AND group_id IN ({', '.join(':' + n for n in names)})" if names else " AND 1 = 0"
        params |= names
    chosen = list(dict.fromkeys(group_by))
    selected = "".join(f'{COLUMNS[d]} AS "{d}", ' for d in chosen)  # quoted: `group` is a keyword
    grouped = f" GROUP BY {', '.join(COLUMNS[d] for d in chosen)}" if chosen else ""
    rows = view.query(
        f"SELECT {selected}COUNT(*) AS entries, SUM(minutes) AS minutes,"
        " SUM(CASE WHEN billable = 1 THEN minutes ELSE 0 END) AS billable_minutes"
        " FROM analytics_time_entries WHERE tenant = :tenant AND corrected_by IS NULL"
        f" AND worked_on >= :start AND worked_on <= :end{conditions}{grouped}",
        params,
    )
    lines = [
        {d: row[d] for d in chosen}
        | {"entries": int(row["entries"]), "minutes": int(row["minutes"] or 0),
           "billable_minutes": int(row["billable_minutes"] or 0)}
        for row in rows
        if int(row["entries"])
    ]  # fmt: skip
    lines.sort(key=lambda line: tuple(str(line[d] or "") for d in chosen))
    return {
        "group_by": chosen,
        "rows": lines,
        "entries": sum(line["entries"] for line in lines),
        "minutes": sum(line["minutes"] for line in lines),
        "billable_minutes": sum(line["billable_minutes"] for line in lines),
    }
