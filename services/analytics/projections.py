"""Analytics read models, fed by upstream events, each event applied with its tracking row."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking, TrackingRecorder

from schemas.envelope import Envelope
from schemas.sla import SlaBreachedV1, SlaMetV1, SlaStartedV1
from schemas.tickets import (
    EventData,
    TicketAssignedV1,
    TicketMergedV1,
    TicketOpenedV1,
    TicketPriorityChangedV1,
    TicketRatedV1,
    TicketReclassifiedV1,
    TicketStatusChangedV1,
    TicketSurveyRequestedV1,
)
from services.analytics import service_levels
from services.chassis.views import Sql, SqlView

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS analytics_backlog (
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        number TEXT NOT NULL,
        status TEXT NOT NULL,
        priority TEXT NOT NULL,
        category TEXT NOT NULL,
        channel TEXT NOT NULL,
        type TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        PRIMARY KEY (tenant, ticket_id))""",
    "CREATE INDEX IF NOT EXISTS analytics_backlog_status ON analytics_backlog (tenant, status)",
    """CREATE TABLE IF NOT EXISTS analytics_flow (
        tenant TEXT NOT NULL,
        day TEXT NOT NULL,
        opened INTEGER NOT NULL,
        PRIMARY KEY (tenant, day))""",
]

SCHEMA += service_levels.SCHEMA

OPEN_STATUSES = ("new", "open", "pending")
_DIMENSIONS = ("status", "priority", "category", "channel", "type")


class BacklogProjection:
    """Every ticket of every tenant with its current classification (the backlog),
    and how many were opened each day (the flow)."""

    def __init__(self, recorder: TrackingRecorder) -> None:
        self.view = SqlView(recorder, SCHEMA)

    def apply(self, envelope: Envelope, data: EventData, tracking: Tracking) -> None:
        with self.view.transaction(tracking) as sql:
            self._apply(data, envelope, sql)

    def apply_many(self, batch: list[tuple[Envelope, EventData, Tracking]]) -> None:
        """A batch of events in one transaction (a rebuild): the same effects as one by one."""
        with self.view.transaction(*(tracking for _, _, tracking in batch)) as sql:
            for envelope, data, _ in batch:
                self._apply(data, envelope, sql)

    @singledispatchmethod
    def _apply(self, data: EventData, envelope: Envelope, sql: Sql) -> None:
        """Events this projection does not read still record their tracking row."""

    @_apply.register
    def _(self, data: TicketOpenedV1, envelope: Envelope, sql: Sql) -> None:
        sql.execute(
            "INSERT INTO analytics_backlog VALUES (:tenant, :ticket_id, :number, 'new', :priority, :category,"
            " :channel, :type, :opened_at)",
            {
                "tenant": envelope.tenant, "ticket_id": data.ticket_id, "number": data.number,
                "priority": data.priority.value, "category": data.category, "channel": data.channel.value,
                "type": data.type.value, "opened_at": envelope.occurred_at.isoformat(),
            },
        )  # fmt: skip
        sql.execute(
            "INSERT INTO analytics_flow VALUES (:tenant, :day, 1)"
            " ON CONFLICT (tenant, day) DO UPDATE SET opened = analytics_flow.opened + 1",
            {"tenant": envelope.tenant, "day": envelope.occurred_at.date().isoformat()},
        )

    @_apply.register
    def _(self, data: TicketStatusChangedV1, envelope: Envelope, sql: Sql) -> None:
        self._update(sql, envelope, data.ticket_id, status=data.status)
        if data.status == "resolved":
            service_levels.outflow(sql, envelope, "resolved")
            service_levels.resolved_by(sql, envelope, data.ticket_id)
        elif data.change == "reopened":
            service_levels.outflow(sql, envelope, "reopened")

    @_apply.register
    def _(self, data: TicketAssignedV1, envelope: Envelope, sql: Sql) -> None:
        service_levels.assigned(sql, envelope, data.ticket_id, data.group_id, data.agent_id)

    @_apply.register
    def _(self, data: TicketSurveyRequestedV1, envelope: Envelope, sql: Sql) -> None:
        service_levels.survey_requested(sql, envelope, data.ticket_id)

    @_apply.register
    def _(self, data: TicketRatedV1, envelope: Envelope, sql: Sql) -> None:
        service_levels.rated(sql, envelope, data.ticket_id, data.score)

    @_apply.register
    def _(self, data: SlaStartedV1, envelope: Envelope, sql: Sql) -> None:
        service_levels.target_started(sql, envelope, data)

    @_apply.register
    def _(self, data: SlaBreachedV1, envelope: Envelope, sql: Sql) -> None:
        service_levels.target_breached(sql, envelope, data)

    @_apply.register
    def _(self, data: SlaMetV1, envelope: Envelope, sql: Sql) -> None:
        service_levels.target_met(sql, envelope, data)

    @_apply.register
    def _(self, data: TicketMergedV1, envelope: Envelope, sql: Sql) -> None:
        self._update(sql, envelope, data.ticket_id, status="closed")

    @_apply.register
    def _(self, data: TicketPriorityChangedV1, envelope: Envelope, sql: Sql) -> None:
        self._update(sql, envelope, data.ticket_id, priority=data.priority.value)

    @_apply.register
    def _(self, data: TicketReclassifiedV1, envelope: Envelope, sql: Sql) -> None:
        changes = {"category": data.category, "type": data.type.value if data.type else None}
        self._update(sql, envelope, data.ticket_id, **{k: v for k, v in changes.items() if v is not None})

    @staticmethod
    def _update(sql: Sql, envelope: Envelope, ticket_id: str, **columns: str) -> None:
        if columns:
            assignments = ", ".join(f"{column} = :{column}" for column in columns)
            sql.execute(
                f"UPDATE analytics_backlog SET {assignments} WHERE tenant = :tenant AND ticket_id = :ticket_id",
                {"tenant": envelope.tenant, "ticket_id": ticket_id, **columns},
            )

    def flow(self, tenant: str) -> list[dict[str, Any]]:
        """Tickets opened per day (UTC) for `tenant`."""
        return self.view.query(
            "SELECT day, opened FROM analytics_flow WHERE tenant = :tenant ORDER BY day", {"tenant": tenant}
        )

    def backlog(self, tenant: str) -> dict[str, Any]:
        """Open tickets of `tenant`, counted in total and by each dimension."""
        report: dict[str, Any] = {"tenant": tenant}
        params = {"tenant": tenant}
        where = "tenant = :tenant AND status IN ('new', 'open', 'pending')"
        total = self.view.query(f"SELECT COUNT(*) AS n FROM analytics_backlog WHERE {where}", params)
        report["open"] = total[0]["n"]
        for dimension in _DIMENSIONS:
            rows = self.view.query(
                f"SELECT {dimension} AS k, COUNT(*) AS n FROM analytics_backlog WHERE {where} GROUP BY {dimension}",
                params,
            )
            report[f"by_{dimension}"] = {row["k"]: row["n"] for row in sorted(rows, key=lambda r: r["k"])}
        return report

    def open_counts(self) -> list[dict[str, Any]]:
        """Open tickets by tenant, status and priority (for the `servicedesk_tickets_open` gauge)."""
        return self.view.query(
            "SELECT tenant, status, priority, COUNT(*) AS n FROM analytics_backlog"
            " WHERE status IN ('new', 'open', 'pending') GROUP BY tenant, status, priority"
        )

    def priority_of(self, tenant: str, ticket_id: str) -> str:
        rows = self.view.query(
            "SELECT priority FROM analytics_backlog WHERE tenant = :tenant AND ticket_id = :ticket_id",
            {"tenant": tenant, "ticket_id": ticket_id},
        )
        return str(rows[0]["priority"]) if rows else "unknown"

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table in a stable order: what a rebuild must reproduce."""
        return {
            "backlog": self.view.query("SELECT * FROM analytics_backlog ORDER BY tenant, ticket_id"),
            "flow": self.view.query("SELECT * FROM analytics_flow ORDER BY tenant, day"),
            "targets": self.view.query("SELECT * FROM analytics_targets ORDER BY tenant, ticket_id, metric"),
            "outflow": self.view.query("SELECT * FROM analytics_outflow ORDER BY tenant, day"),
            "csat": self.view.query("SELECT * FROM analytics_csat ORDER BY tenant, ticket_id"),
            "assignment": self.view.query("SELECT * FROM analytics_assignment ORDER BY tenant, ticket_id"),
            "resolutions": self.view.query("SELECT * FROM analytics_resolutions ORDER BY tenant, ticket_id, position"),
        }

    def applied_count(self, source: str) -> int:
        table = self.view.tracking_table
        rows = self.view.query(
            f"SELECT COUNT(*) AS n FROM {table} WHERE application_name = :s",
            {"s": source},
        )
        return int(rows[0]["n"])

    def drop(self, sources: list[str]) -> None:
        """Forget every row and every tracking row of `sources`: the start of a rebuild."""
        with self.view.transaction() as sql:
            for table in ("analytics_backlog", "analytics_flow", *service_levels.TABLES):
                sql.execute(f"DELETE FROM {table}")
            for source in sources:
                sql.execute(
                    f"DELETE FROM {self.view.tracking_table} WHERE application_name = :s",
                    {"s": source},
                )
