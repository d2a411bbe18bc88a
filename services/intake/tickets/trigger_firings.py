"""Intake's side of triggers: each `rules.trigger_fired` becomes one command on the ticket, one save.

`Ticket.TriggerApplied` leads (which trigger, which version, why, what it does), then the internal note and
each action's own events, all under the firing's cause (its correlation id: the chain the rules service
counts to stop loops), recorded with the firing's tracking row. A firing is applied once, by its id, even
when the relay published it again.

A firing that fails for good (a custom field the tenant does not have, a status move the ticket refuses, a
note that does not render) changes nothing: it is tried on a copy of the ticket first, so a refused action
never leaves half a firing in the save; it is logged and recorded as seen, and the next firings go on.
A firing about a ticket resolved, closed or merged by now changes nothing either.
"""

from __future__ import annotations

import logging
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope, EventData
from schemas.rules import RULES_ACTOR, TriggerFiredV1
from services.chassis.runtime.errors import CommandRefusedError
from services.chassis.storage.ids import stable_id
from services.chassis.storage.processing import commit
from services.intake.macros.actions import Actions, run_actions
from services.intake.people.people import People
from services.intake.rendering.context import TicketFacts, ticket_context
from services.intake.rendering.sandbox import RenderError, render_text
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.domain import Ticket
from services.intake.tickets.errors import TicketError, TicketRuleError
from services.intake.tickets.fields import CustomFieldError
from services.intake.tickets.vocabulary import Status
from services.intake.tickets.work import TicketNotFoundError

log = logging.getLogger(__name__)

_SETTLED = {Status.CLOSED.value}
_REFUSALS = (TicketError, CustomFieldError, CommandRefusedError, RenderError, ValueError)


def apply_firing(intake: Intake, envelope: Envelope, data: EventData, tracking: Tracking) -> None:
    """The consumer's `apply` for `rules.actions`."""
    commit(intake, lambda: _apply(intake, envelope, data), tracking)


def _apply(intake: Intake, envelope: Envelope, data: EventData) -> list[Any]:
    if not isinstance(data, TriggerFiredV1):
        return []
    try:
        ticket = intake.get_ticket(UUID(data.ticket_id), envelope.tenant)
    except (TicketNotFoundError, ValueError):
        log.warning("a trigger fired on an unknown ticket %s of %s", data.ticket_id, envelope.tenant)
        return []
    if ticket.status in _SETTLED or ticket.merged_into is not None or ticket.applied_firing(data.firing_id):
        return []
    cause = Cause(envelope.tenant, RULES_ACTOR, envelope.correlation_id, str(envelope.id), envelope.traceparent)
    try:
        with acting(cause):
            command = _command(intake, ticket, data)
            command(deepcopy(ticket))  # a refusal here leaves the ticket untouched
    except _REFUSALS as refused:
        log.warning("trigger %s v%d refused on ticket %s: %s", data.trigger_id, data.trigger_version,
                    data.ticket_id, refused)  # fmt: skip
        return []
    with acting(cause):
        command(ticket)
    return [ticket]


def _command(intake: Intake, ticket: Ticket, data: TriggerFiredV1) -> Any:
    actions = Actions.of(data.actions)
    fields = intake._fields(ticket.tenant).check(actions.custom_fields, complete=False) if actions.custom_fields else {}
    actions = replace(actions, custom_fields=fields)
    note = data.actions.get("note")
    text = _render(intake, ticket, note) if note else None
    agent_id = data.actions.get("agent_id")
    reason = f"trigger: {data.trigger_name} ({data.reason})"
    now = datetime.now(UTC)
    seal = intake._sealer(ticket.tenant, ticket.requester_id)

    def command(t: Ticket) -> None:
        t.record_trigger(data.trigger_id, data.trigger_version, data.firing_id, data.reason, data.actions)
        if text is not None:
            comment_id = stable_id("trigger-note", data.firing_id)
            t.add_comment(comment_id, seal(text), False, RULES_ACTOR, "api", staff=True)
        run_actions(t, actions, reason, now, seal)
        if agent_id is not None and agent_id != t.agent_id:
            group_id = actions.group_id or t.group_id
            if group_id is None:
                raise TicketRuleError("agent_id", "the ticket is in no group: assign a group with the agent")
            t.assign(group_id, agent_id, reason)

    return command


def _render(intake: Intake, ticket: Ticket, note: str) -> str:
    """The note rendered in intake's sandbox with the ticket's facts, as a macro's body is."""
    profile = People(intake, intake.personal).profile(ticket.tenant, ticket.requester_id)
    facts = TicketFacts(
        number=ticket.number,
        title=intake.personal.unseal(ticket.tenant, ticket.title),
        status=ticket.status,
        priority=ticket.priority,
        requester_name=profile.name if profile and not profile.erased else None,
        agent_name=ticket.agent_id,
        sla_due=None,
        kb_base=None,
    )
    return render_text(note, ticket_context(facts))
