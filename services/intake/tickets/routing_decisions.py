"""Intake's side of routing: each `routing.decided` becomes the ticket's assignment.

The assignment is recorded on the ticket's own stream, with routing's reason and
decision id, together with the decision's tracking row. A person's assignment wins:
routing's later decisions leave such a ticket alone, except an escalation a person
asked for. Decisions about a ticket that is resolved or closed by now are recorded
as seen and change nothing.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope, EventData
from schemas.routing import ROUTING_ACTOR, RoutingDecidedV1
from services.chassis.storage.processing import commit
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.vocabulary import Status
from services.intake.tickets.work import TicketNotFoundError

log = logging.getLogger(__name__)

_SETTLED = {Status.RESOLVED.value, Status.CLOSED.value}


def apply_decision(intake: Intake, envelope: Envelope, data: EventData, tracking: Tracking) -> None:
    """The consumer's `apply` for `routing.decisions`."""
    commit(intake, lambda: _decide(intake, envelope, data), tracking)


def _decide(intake: Intake, envelope: Envelope, data: EventData) -> list[Any]:
    if not isinstance(data, RoutingDecidedV1):
        return []
    try:
        ticket = intake.get_ticket(UUID(data.ticket_id), envelope.tenant)
    except (TicketNotFoundError, ValueError):
        log.warning("routing decided about an unknown ticket %s of %s", data.ticket_id, envelope.tenant)
        return []
    if ticket.status in _SETTLED or ticket.merged_into is not None:
        return []
    if ticket.assigned_manually and not data.overrides_manual:
        return []
    cause = Cause(envelope.tenant, ROUTING_ACTOR, envelope.correlation_id, str(envelope.id), envelope.traceparent)
    with acting(cause):
        ticket.assign(data.group_id, data.agent_id, data.reason, decision_id=data.decision_id)
    return [ticket]
