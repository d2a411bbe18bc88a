"""How routing reacts to what happens to tickets and their SLA clocks (the consumer's `apply`).

Each upstream event is decided on and recorded with its tracking row in one
transaction (`Routing.run`): a redelivery changes nothing, a crash loses nothing.
"""

from __future__ import annotations

from datetime import UTC
from functools import partial
from uuid import UUID

from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope, EventData
from schemas.keywords import KeywordDigests
from schemas.routing import ROUTING_ACTOR
from schemas.sla import SlaBreachedV1, SlaWarningV1
from schemas.tickets import (
    ImportedFrom,
    TicketAssignedV1,
    TicketMergedV1,
    TicketOpenedV3,
    TicketOpenedV4,
    TicketOpenedV5,
    TicketPriorityChangedV1,
    TicketStatusChangedV1,
)
from services.chassis.messaging.batching import Apply
from services.routing import decisions
from services.routing.application import Routing
from services.routing.choosing import TicketFacts
from services.routing.domain import TicketRouting
from services.routing.work import Work

_FINISHED = {"resolved": "resolved", "closed": "closed"}


def reactions(routing: Routing, digests: KeywordDigests) -> Apply:
    """`digests` (keyed with the desk's keyword secret) turn a v2's plain words into what v3 carries."""

    def apply(envelope: Envelope, data: EventData, tracking: Tracking) -> None:
        tenant = envelope.tenant
        cause = {"actor": ROUTING_ACTOR, "correlation_id": envelope.correlation_id, "causation_id": str(envelope.id)}
        cause |= {"traceparent": envelope.traceparent} if envelope.traceparent else {}
        changed = partial(routing.ticket_changed, tenant, tracking=tracking, cause=cause)
        match data:
            case TicketOpenedV5(imported_from=ImportedFrom()):
                routing.nothing(tenant, tracking)  # imported history: routed long ago, in another desk
            case TicketOpenedV3():
                words = frozenset(data.keyword_digests) | frozenset(digests.of_words(tenant, data.legacy_keywords))
                facts = TicketFacts(
                    category=data.category,
                    type=data.type.value,
                    priority=data.priority.value,
                    channel=data.channel.value,
                    tags=frozenset(data.tags),
                    organisation=data.organisation,
                    words=words,
                    opened_at=envelope.occurred_at.astimezone(UTC).isoformat(),
                    digest=partial(digests.digest, tenant),
                    default_group=data.group_id,
                )
                routing.ticket_opened(tenant, data.ticket_id, facts, tracking, cause)
            case TicketStatusChangedV1(change="work_started"):
                changed(data.ticket_id, lambda _, r: r.start_work())
            case TicketStatusChangedV1(change="reopened"):
                changed(data.ticket_id, decisions.reopen)
            case TicketStatusChangedV1(status=status) if status in _FINISHED:
                changed(data.ticket_id, partial(_finish, why=_FINISHED[status]))
            case TicketMergedV1():
                changed(data.ticket_id, partial(_finish, why="merged"))
            case TicketPriorityChangedV1():
                priority = data.priority.value
                changed(data.ticket_id, lambda w, r: decisions.reprioritise(w, r, priority))
            case TicketAssignedV1() if envelope.actor != ROUTING_ACTOR:
                group_id, agent_id = data.group_id, data.agent_id
                changed(data.ticket_id, lambda w, r: decisions.assigned_by_person(w, r, group_id, agent_id))
            case SlaWarningV1() | SlaBreachedV1():
                trigger = "warning" if isinstance(data, SlaWarningV1) else "breach"
                changed(data.ticket_id, partial(_on_sla, trigger=trigger, data=data))
            case _:
                routing.nothing(tenant, tracking)

    return apply


def _finish(work: Work, routing: TicketRouting, why: str) -> None:
    decisions.finish(work, routing, why)


def _on_sla(work: Work, routing: TicketRouting, trigger: str, data: SlaWarningV1 | SlaBreachedV1) -> None:
    """Escalate when the ticket's group says so for this trigger; a person's assignment stays."""
    if routing.done or routing.by_person or routing.group_id is None:
        return
    group = work.setup().groups.get(routing.group_id, {})
    if trigger not in group.get("escalate_on", []) or group.get("escalates_to") is None:
        return
    burned = f"at {data.threshold_percent} %" if isinstance(data, SlaWarningV1) else "breached"
    what = f"SLA {data.metric.value} {burned}"
    decisions.escalate(work, routing, f"{what} (policy {data.policy_id}, due {data.due_at})", by_person=False)


_ON_A_TICKET = (
    TicketOpenedV3,
    TicketOpenedV4,
    TicketStatusChangedV1,
    TicketMergedV1,
    TicketPriorityChangedV1,
    TicketAssignedV1,
    SlaWarningV1,
    SlaBreachedV1,
)


def decides_on(envelope: Envelope, data: EventData) -> UUID | None:
    """The ticket's routing an event's reaction reads (a new ticket's: to find it has none yet), for the
    consumer's batch to read with the others at once; none for routing's own assignments, which change nothing."""
    if not isinstance(data, _ON_A_TICKET) or (isinstance(data, TicketAssignedV1) and envelope.actor == ROUTING_ACTOR):
        return None
    try:
        return UUID(data.ticket_id)
    except ValueError:
        return None
