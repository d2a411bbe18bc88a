"""SLA's what-if: the last N days of a tenant's ticket events replayed through its SLA setup as it was and
through a candidate, with SLA's live code (reactions, clock, calendar, policies) on in-memory clocks.

`what_if(sla, settings)` is the `Replay` (services/chassis/whatif/replay.py) the job runner and the CLI call.
Reads: the window's events of `intake.tickets` and `sla.clocks` (outside any consumer group) and the setup's
history from SLA's store. Writes nothing.

Limits: a ticket opened before the window is left out (its clock's start is not in the window). The
replay fires each clock on its due instants, as the scheduler does; the live record matches it because
every clock command records what fell due before it first, however late the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from schemas.registry import TypedEnvelope, upcast
from schemas.sla import SlaBreachedV1, SlaWarningV1
from schemas.tickets import TicketOpenedV3, TicketPriorityChangedV1
from schemas.topics import SLA_CLOCKS, TICKETS
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.chassis.whatif.history import tenant_history
from services.chassis.whatif.http import Check, candidate_check, mount_jobs
from services.chassis.whatif.jobs import WhatIfJobs
from services.chassis.whatif.replay import Progress, Replay, WhatIfRequest
from services.sla.application import Sla
from services.sla.policies import SlaSetup, SlaSetupError
from services.sla.what_if.candidate import Candidate
from services.sla.what_if.report import Firing, Ticket, compared, firings, reproduction
from services.sla.what_if.sandbox import Sandbox
from services.sla.what_if.setups import SetupHistory

KIND = "sla"
EVERY = 1000  # events between progress reports


def what_if(sla: Sla, settings: Settings, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Replay:
    def replay(request: WhatIfRequest, progress: Progress) -> dict[str, Any]:
        candidate = Candidate.model_validate(request.candidate)  # pydantic's errors name the field
        setups = SetupHistory.of(sla, request.tenant)
        changed = setups.changed(lambda setup: candidate.applied(setup, request.tenant, setups.newest()))
        until = now()
        since = until - timedelta(days=request.days)
        topics = [settings.kafka_name(TICKETS), settings.kafka_name(SLA_CLOCKS)]
        history = tenant_history(
            settings.kafka_bootstrap_servers, topics, request.tenant, since, until, lambda read: progress(0, 0)
        )
        report = replayed(history, setups, changed, until, progress)
        return {"kind": KIND, "tenant": request.tenant, "since": since.isoformat(), "until": until.isoformat(),
                "candidate": candidate.model_dump(mode="json")} | report  # fmt: skip

    return replay


def replayed(
    history: list[TypedEnvelope], current: SetupHistory, candidate: SetupHistory, until: datetime, progress: Progress
) -> dict[str, Any]:
    """The window's events through both setups, compared; and the current one's against the record."""
    before, after = Sandbox(current), Sandbox(candidate)
    tickets: dict[str, Ticket] = {}
    recorded: set[Firing] = set()
    total = len(history)
    for done, envelope in enumerate(history, 1):
        data = upcast(envelope.data)
        if isinstance(data, SlaWarningV1 | SlaBreachedV1):
            warning = isinstance(data, SlaWarningV1)
            threshold = data.threshold_percent if isinstance(data, SlaWarningV1) else None
            kind = "warning" if warning else "breach"
            recorded.add((data.ticket_id, str(data.metric), kind, threshold, envelope.occurred_at))
        elif envelope.source != "sla":
            if isinstance(data, TicketOpenedV3):
                tickets[data.ticket_id] = Ticket(data.number, data.priority.value)
            elif isinstance(data, TicketPriorityChangedV1) and data.ticket_id in tickets:
                tickets[data.ticket_id].priority = data.priority.value
            before.apply(envelope, data)
            after.apply(envelope, data)
        if done % EVERY == 0 or done == total:
            progress(done, total)
    before.fire_until(until)
    after.fire_until(until)
    replayed_firings = {f for f in firings(before) if f[4] < until}
    recorded = {f for f in recorded if f[0] in tickets}
    return compared(before, after, tickets) | {
        "tickets": len(tickets),
        "events": total,
        "reproduces_history": reproduction(recorded, replayed_firings, tickets),
    }


def checked(sla: Sla) -> Check:
    """The candidate read (pydantic names the field) and applied to the tenant's setup as it stands by the
    setup's own commands, so a policy naming an unknown calendar is refused before a job starts."""
    read = candidate_check(Candidate)

    def check(request: WhatIfRequest) -> SlaSetup:
        newest = SetupHistory.of(sla, request.tenant).newest()
        try:
            return read(request).applied(newest, request.tenant, newest)
        except SlaSetupError as error:
            raise SlaSetupError(str(error), f"candidate.{error.field}") from None

    return check


def mount_what_if(app: FastAPI, sla: Sla, settings: Settings, owner: str) -> WhatIfJobs:
    """`/v1/sla/what-if` on `app`: candidate SLA setups replayed as jobs of SLA's store."""
    recorder = tracking_recorder(settings, Sla.name)
    return mount_jobs(app, recorder, KIND, owner, "/v1/sla/what-if", what_if(sla, settings), checked(sla), "sla")
