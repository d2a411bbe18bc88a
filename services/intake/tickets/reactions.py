"""What intake does with other services' events (the consumer's `apply`): routing's decisions
become assignments, triggers' firings change tickets, SLA clock events become each ticket's SLA
state, and an unresponsive customer's ticket is resolved."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope, EventData
from schemas.routing import RoutingDecidedV1
from schemas.rules import TriggerFiredV1
from schemas.sla import SlaCustomerUnresponsiveV1
from services.chassis.messaging.batching import Apply
from services.intake.tickets.application import Intake
from services.intake.tickets.routing_decisions import apply_decision
from services.intake.tickets.sla_status import SlaStatus, resolve_unresponsive
from services.intake.tickets.trigger_firings import apply_firing


def reactions(intake: Intake, sla_status: SlaStatus) -> Apply:
    def apply(envelope: Envelope, data: EventData, tracking: Tracking) -> None:
        if isinstance(data, RoutingDecidedV1):
            apply_decision(intake, envelope, data, tracking)
        elif isinstance(data, TriggerFiredV1):
            apply_firing(intake, envelope, data, tracking)
        elif isinstance(data, SlaCustomerUnresponsiveV1):
            resolve_unresponsive(intake, envelope, data, tracking)
        else:
            sla_status.apply(envelope, data, tracking)

    return apply


def decides_on(envelope: Envelope, data: EventData) -> UUID | None:
    """The ticket an event's reaction changes, for the consumer's batch to read with the others at once."""
    if not isinstance(data, RoutingDecidedV1 | SlaCustomerUnresponsiveV1 | TriggerFiredV1):
        return None
    try:
        return UUID(data.ticket_id)
    except ValueError:
        return None
