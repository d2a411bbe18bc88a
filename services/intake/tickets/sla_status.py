"""Each ticket's SLA state as the SLA service publishes it, for `GET /v1/tickets/{id}`; and
the auto-resolution of a ticket whose customer never answered the reminders."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder

from schemas.envelope import Envelope, EventData
from schemas.sla import SlaBreachedV1, SlaClockData, SlaCustomerUnresponsiveV1, SlaMetV1, SlaWarningV1
from services.chassis.storage.processing import commit
from services.chassis.storage.views import Sql, SqlView
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.ticket_tables import SLA_SCHEMA
from services.intake.tickets.vocabulary import Status
from services.intake.tickets.work import TicketNotFoundError

_STATES = {
    "sla.started": "running", "sla.resumed": "running", "sla.paused": "paused", "sla.met": "met",
    "sla.warning": "running", "sla.breached": "running",
}  # fmt: skip


class SlaStatus:
    def __init__(self, recorder: TrackingRecorder) -> None:
        self.view = SqlView(recorder, SLA_SCHEMA)

    def apply(self, envelope: Envelope, data: EventData, tracking: Tracking) -> None:
        with self.view.transaction(tracking) as sql:
            if isinstance(data, SlaClockData | SlaWarningV1 | SlaBreachedV1):
                self._record(sql, envelope, data)

    def _record(self, sql: Sql, envelope: Envelope, data: Any) -> None:
        breached = isinstance(data, SlaBreachedV1) or (isinstance(data, SlaMetV1) and data.breached)
        row = {
            "tenant": envelope.tenant, "ticket_id": data.ticket_id, "metric": data.metric.value,
            "policy_id": data.policy_id, "state": _STATES[envelope.type], "target": data.target_seconds,
            "due_at": data.due_at, "used": data.business_seconds_used,
            "warned": data.threshold_percent if isinstance(data, SlaWarningV1) else None, "breached": breached,
            "at": envelope.occurred_at.isoformat(),
        }  # fmt: skip
        sql.execute(
            "INSERT INTO intake_sla VALUES (:tenant, :ticket_id, :metric, :policy_id, :state, :target, :due_at, :used,"
            " :warned, :breached, :at) ON CONFLICT (tenant, ticket_id, metric) DO UPDATE SET"
            " policy_id = excluded.policy_id, state = excluded.state, target_seconds = excluded.target_seconds,"
            " due_at = excluded.due_at, business_seconds_used = excluded.business_seconds_used,"
            " warned_at_percent = COALESCE(excluded.warned_at_percent, intake_sla.warned_at_percent),"
            " breached = intake_sla.breached OR excluded.breached, updated_at = excluded.updated_at",
            row,
        )

    def of(self, tenant: str, ticket_id: UUID) -> dict[str, Any]:
        """Per metric: state, target, due instant, business time used (as last published), warned, breached."""
        rows = self.view.query(
            "SELECT metric, policy_id, state, target_seconds, due_at, business_seconds_used, warned_at_percent,"
            " breached, updated_at FROM intake_sla WHERE tenant = :tenant AND ticket_id = :ticket_id",
            {"tenant": tenant, "ticket_id": str(ticket_id)},
        )
        return {row.pop("metric"): row | {"breached": bool(row["breached"])} for row in rows}

    def of_tickets(self, tenant: str, ticket_ids: list[UUID]) -> dict[str, list[tuple[Any, ...]]]:
        """Several tickets' SLA rows at once (by ticket id), to compare with the last seen (live_changes.py)."""
        names = {f"t{n}": str(ticket_id) for n, ticket_id in enumerate(ticket_ids)}
        rows = self.view.query(
            "SELECT ticket_id, metric, state, due_at, warned_at_percent, breached, updated_at FROM intake_sla"
            f" WHERE tenant = :tenant AND ticket_id IN ({', '.join(':' + n for n in names)})"
            " ORDER BY ticket_id, metric",
            {"tenant": tenant} | names,
        )
        found: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            found.setdefault(row.pop("ticket_id"), []).append(tuple(row.values()))
        return found


def resolve_unresponsive(
    intake: Intake, envelope: Envelope, data: SlaCustomerUnresponsiveV1, tracking: Tracking
) -> None:
    """Resolve a ticket still waiting on a customer who never answered; otherwise only note the event."""

    def decide() -> list[Any]:
        try:
            ticket = intake.get_ticket(UUID(data.ticket_id), envelope.tenant)
        except (TicketNotFoundError, ValueError):
            return []
        if ticket.status != Status.PENDING.value:
            return []
        cause = Cause(envelope.tenant, envelope.actor, envelope.correlation_id, str(envelope.id), envelope.traceparent)
        with acting(cause):
            ticket.resolve(data.reason, data.reason)
        return [ticket]

    commit(intake, decide, tracking)
