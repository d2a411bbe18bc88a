"""How the SLA clocks follow the tickets (the consumer's `apply` for `intake.tickets`).

Each ticket event acts at the instant it happened (`occurred_at`), not when it is
consumed, so a consumer that catches up after an outage computes the same clocks.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope, EventData
from schemas.tickets import (
    AuthorKind,
    TicketAssignedV1,
    TicketCommentedV2,
    TicketMergedV1,
    TicketOpenedV3,
    TicketPriorityChangedV1,
    TicketStatusChangedV1,
)
from services.chassis.messaging.batching import Apply
from services.chassis.storage.processing import UnitOfWork
from services.sla.application import Sla
from services.sla.clock import Clock
from services.sla.clock_readings import MET
from services.sla.policies import SlaSetup

CUSTOMER = "customer"  # `waiting_for` of a ticket pending on its requester


def reactions(sla: Sla) -> Apply:
    def apply(envelope: Envelope, data: EventData, tracking: Tracking) -> None:
        sla.run(lambda work: react(work, envelope, data), tracking)

    return apply


def decides_on(envelope: Envelope, data: EventData) -> UUID | None:
    """The clock (the ticket's id) an event's reaction reads, a new ticket's too (to find it has none yet),
    for the consumer's batch to read with the others at once."""
    ticket_id = getattr(data, "ticket_id", None)
    if not isinstance(ticket_id, str):
        return None
    try:
        return UUID(ticket_id)
    except ValueError:
        return None


def react(work: UnitOfWork, envelope: Envelope, data: EventData) -> None:
    at, tenant = envelope.occurred_at, envelope.tenant
    if isinstance(data, TicketOpenedV3):
        if getattr(data, "imported_from", None) is None:  # imported history opens no clock: nothing breaches it
            open_clock(work, tenant, data, at)
        return
    ticket_id = getattr(data, "ticket_id", None)
    if ticket_id is None:
        return
    try:
        clock = work.get(UUID(ticket_id), Clock)
    except ValueError:
        return
    if clock is None or clock.tenant != tenant:
        return  # a ticket no policy covered
    match data:
        case TicketCommentedV2(public=True):
            commented(clock, data.kind_for(clock.requester_id), at)
        case TicketStatusChangedV1(status="pending", waiting_for=waiting_for, pending_until=until):
            if waiting_for == CUSTOMER and until is not None:
                clock.mark_pending(datetime.fromisoformat(until), at)
            else:
                clock.customer_answered(at)  # waiting on a third party: the desk's clock runs
        case TicketStatusChangedV1(change="resumed"):
            clock.customer_answered(at)
        case TicketStatusChangedV1(status="resolved" | "closed"):
            clock.resolve(at)
        case TicketStatusChangedV1(change="reopened"):
            clock.reopen(at)
        case TicketMergedV1():
            clock.resolve(at)
        case TicketPriorityChangedV1():
            retarget(work, clock, data.priority.value, at)
        case TicketAssignedV1():
            clock.follow_assignment(data.group_id, data.agent_id)
        case _:
            pass


def open_clock(work: UnitOfWork, tenant: str, data: TicketOpenedV3, at: datetime) -> None:
    ticket_id = UUID(data.ticket_id)
    if work.get(ticket_id, Clock) is not None:
        return
    setup = work.get(SlaSetup.create_id(tenant), SlaSetup)
    facts = {"priority": data.priority.value, "category": data.category, "organisation": data.organisation}
    policy = setup.choose(data.priority.value, data.category, data.organisation) if setup else None
    if policy is None:
        return
    clock = work.add(
        Clock(
            id=ticket_id,
            tenant=tenant,
            policy_id=policy["policy_id"],
            policy=policy,
            requester_id=data.requester_id,
            opened_at=at,
            facts=facts,
        )
    )
    clock.start_metric("first_response", at)
    clock.start_metric("resolution", at)


def commented(clock: Clock, author: AuthorKind, at: datetime) -> None:
    """Only a staff reply answers the requester; anyone else's comment (a colleague of theirs, an
    outsider) changes no clock."""
    if author == AuthorKind.STAFF:
        clock.meet("first_response", at)
        clock.meet("next_response", at)
    elif author == AuthorKind.REQUESTER:
        customer_wrote(clock, at)


def customer_wrote(clock: Clock, at: datetime) -> None:
    """The customer answered: a pending ticket's clock resumes; after the first response, the
    desk owes a next response."""
    clock.customer_answered(at)
    first = clock.metrics.get("first_response")
    if first is None or first["state"] == MET:
        clock.start_metric("next_response", at)


def retarget(work: UnitOfWork, clock: Clock, priority: str, at: datetime) -> None:
    setup = work.get(SlaSetup.create_id(clock.tenant), SlaSetup)
    if setup is None:
        return
    facts = clock.facts | {"priority": priority}
    policy = setup.choose(priority, facts["category"] or "", facts["organisation"])
    if policy is not None and (policy != clock.policy or facts != clock.facts):
        clock.retarget(policy, facts, at)
