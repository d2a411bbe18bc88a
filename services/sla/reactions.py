"""How the SLA clocks follow the tickets (the consumer's `apply` for `intake.tickets`).

Each ticket event acts at the instant it happened (`occurred_at`), not when it is
consumed, so a consumer that catches up after an outage computes the same clocks.

A ticket's policy is its organisation's own when the organisation names one the setup knows, else the
first rule that matches (choice.py); what of the organisation's SLA was passed over is logged and counted
(`servicedesk_sla_organisation_sla_passed_over`), never refused: the ticket still gets the rules' clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope, EventData
from schemas.tickets import (
    AuthorKind,
    TicketAssignedV1,
    TicketCommentedV2,
    TicketMergedV1,
    TicketOpenedV3,
    TicketOpenedV6,
    TicketPriorityChangedV1,
    TicketStatusChangedV1,
)
from services.chassis.messaging.batching import Apply
from services.chassis.storage.processing import UnitOfWork
from services.sla.application import Sla
from services.sla.choice import choose, without_why
from services.sla.clock import Clock
from services.sla.clock_readings import MET
from services.sla.passed_over import Noted, unnoted
from services.sla.policies import SlaSetup

CUSTOMER = "customer"  # `waiting_for` of a ticket pending on its requester
OWN_SLA = ("sla_policy_id", "sla_calendar_id")  # the organisation's, among a clock's facts when it named them

PassedOver = Callable[[str, str], None]  # (`policy` or `calendar`, the id) of an organisation's SLA not defined here


def ignored(what: str, named: str) -> None:
    """Passed over in silence (a what-if replay reports no setup's gaps)."""


def reactions(sla: Sla, noted: Noted = unnoted) -> Apply:
    def apply(envelope: Envelope, data: EventData, tracking: Tracking) -> None:
        passed: list[tuple[str, str]] = []

        def decide(work: UnitOfWork) -> None:
            passed.clear()  # a lost race decides again
            react(work, envelope, data, lambda what, named: passed.append((what, named)))

        sla.run(decide, tracking)
        for what, named in passed:
            noted(envelope.tenant, what, named)

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


def react(work: UnitOfWork, envelope: Envelope, data: EventData, passed_over: PassedOver = ignored) -> None:
    at, tenant = envelope.occurred_at, envelope.tenant
    if isinstance(data, TicketOpenedV3):
        if getattr(data, "imported_from", None) is None:  # imported history opens no clock: nothing breaches it
            open_clock(work, tenant, data, at, passed_over)
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
            retarget(work, clock, data.priority.value, at, passed_over)
        case TicketAssignedV1():
            clock.follow_assignment(data.group_id, data.agent_id)
        case _:
            pass


def open_clock(
    work: UnitOfWork, tenant: str, data: TicketOpenedV3, at: datetime, passed_over: PassedOver = ignored
) -> None:
    """The ticket's clock, by its organisation's own policy (and calendar) or the rules' (choice.py). Its facts
    keep the organisation's SLA as the ticket opened with it: a later change of the organisation's reaches the
    tickets opened after it, never this clock (a priority change re-chooses by the same facts)."""
    ticket_id = UUID(data.ticket_id)
    if work.get(ticket_id, Clock) is not None:
        return
    setup = work.get(SlaSetup.create_id(tenant), SlaSetup)
    facts: dict[str, str | None] = {
        "priority": data.priority.value, "category": data.category, "organisation": data.organisation
    }  # fmt: skip
    if isinstance(data, TicketOpenedV6):
        facts |= {key: value for key in OWN_SLA if (value := getattr(data, key)) is not None}
    policy = chosen(setup, facts, passed_over) if setup else None
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


def retarget(work: UnitOfWork, clock: Clock, priority: str, at: datetime, passed_over: PassedOver = ignored) -> None:
    """The policy chosen again for the new priority (the organisation's own stays: it matches any priority)."""
    setup = work.get(SlaSetup.create_id(clock.tenant), SlaSetup)
    if setup is None:
        return
    facts = clock.facts | {"priority": priority}
    policy = chosen(setup, facts, passed_over)
    if policy is not None and (without_why(policy) != without_why(clock.policy) or facts != clock.facts):
        clock.retarget(policy, facts, at)


def chosen(setup: SlaSetup, facts: dict[str, str | None], passed_over: PassedOver) -> dict[str, Any] | None:
    choice = choose(setup, facts)
    for what in choice.unknown:
        passed_over(what, facts.get(f"sla_{what}_id") or "")
    return choice.policy
