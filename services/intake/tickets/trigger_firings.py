"""Intake's side of triggers: each `rules.trigger_fired` becomes one command on the ticket, one save.

`Ticket.TriggerApplied` leads (which trigger, which version, why, what it does), then the internal note and
each action's own events, all under the firing's cause (its correlation id: the chain the rules service
counts to stop loops), recorded with the firing's tracking row. A firing is applied once, by its id, even
when the relay published it again.

A refused firing changes nothing but the record of its refusal (`Ticket.TriggerRefused`, published as
`ticket.trigger_refused`): it is tried on a copy of the ticket first, so a refused action never leaves half a
firing in the save, and the next firings go on. The refusal is `for_good` when the trigger itself is at fault
(a custom field the tenant does not have, a macro gone, retired or personal, a note that does not render, a
webhook subscription the tenant does not have):
the rules service then disables the trigger, naming the refusal. A refusal by this ticket's state (a status
it cannot move to, an agent without a group) is not: the trigger stays on for the tickets it fits.

Why refused at intake and not checked by the rules service when the trigger is saved: custom fields, macros
and the rendering sandbox are intake's, and they change after the trigger is saved (a field removed, a macro
retired); only the firing finds out for sure.
A firing about a ticket resolved, closed or merged by now changes nothing either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
from services.chassis.storage.processing import commit, find
from services.intake.macros.actions import Actions, run_actions
from services.intake.macros.application import MacroUse
from services.intake.macros.applying import MacroDesk
from services.intake.macros.domain import Caller, MacroRefusedError
from services.intake.people.finder import People
from services.intake.rendering.context import TicketFacts, ticket_context
from services.intake.rendering.sandbox import RenderError, render_text
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.domain import Ticket
from services.intake.tickets.errors import TicketError, TicketRuleError
from services.intake.tickets.fields import CustomFieldError
from services.intake.tickets.vocabulary import Status
from services.intake.tickets.work import TicketNotFoundError
from services.intake.webhooks.subscriptions import Webhooks

log = logging.getLogger(__name__)

_SETTLED = {Status.CLOSED.value}
MACRO_CALLER = Caller(RULES_ACTOR, frozenset(), manages=True)  # a trigger uses the tenant's shared macros


class FiringRefusedError(Exception):
    """A firing that changes nothing: `where` names the action (`then.note`), `for_good` when the trigger
    itself is at fault rather than this ticket's state."""

    def __init__(self, where: str, message: str, for_good: bool) -> None:
        super().__init__(f"{where}: {message}")
        self.for_good = for_good


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
    with acting(cause):
        try:
            command = _command(intake, ticket, data)
            command(deepcopy(ticket))  # a refusal here leaves the ticket untouched
        except FiringRefusedError as refused:
            log.warning("trigger %s v%d refused on ticket %s: %s", data.trigger_id, data.trigger_version,
                        data.ticket_id, refused)  # fmt: skip
            ticket.refuse_trigger(data.trigger_id, data.trigger_version, data.firing_id, str(refused), refused.for_good)
            return [ticket]
        command(ticket)
    return [ticket]


def _command(intake: Intake, ticket: Ticket, data: TriggerFiredV1) -> Callable[[Ticket], None]:
    """The firing's command on a ticket; FiringRefusedError when preparing it or running it (on a copy) fails."""
    actions = Actions.of(data.actions)
    try:
        actions = actions.checked_by(intake._fields(ticket.tenant))
    except CustomFieldError as error:
        raise FiringRefusedError(f"then.custom_fields.{error.key}", error.message, for_good=True) from None
    note = data.actions.get("note")
    try:
        text = _render(intake, ticket, note) if note else None
    except RenderError as error:
        raise FiringRefusedError("then.note", f"does not render: {error}", for_good=True) from None
    macro = _macro(intake, ticket, data.actions.get("macro_id"))
    _check_webhooks(intake, ticket.tenant, data.actions.get("webhook_ids", []))
    agent_id = data.actions.get("agent_id")
    reason = f"trigger: {data.trigger_name} ({data.reason})"
    now = datetime.now(UTC)
    seal = intake._sealer(ticket.tenant, ticket.requester_id)

    def command(t: Ticket) -> None:
        t.record_trigger(data.trigger_id, data.trigger_version, data.firing_id, data.reason, data.actions)
        try:
            if text is not None:
                t.add_comment(stable_id("trigger-note", data.firing_id), seal(text), False, RULES_ACTOR, "api",
                              staff=True)  # fmt: skip
            if macro is not None:
                reply_id = stable_id("trigger-reply", data.firing_id)
                t.record_macro(macro.macro_id, macro.version, macro.language, reply_id, macro.public,
                               macro.actions.summary())  # fmt: skip
                t.add_comment(reply_id, seal(macro.text), macro.public, RULES_ACTOR, "api", staff=True)
                run_actions(t, macro.actions, f"macro: {macro.title} ({reason})", now, seal)
            run_actions(t, actions, reason, now, seal)
            if agent_id is not None and agent_id != t.agent_id:
                group_id = actions.group_id or t.group_id
                if group_id is None:
                    raise TicketRuleError("agent_id", "the ticket is in no group: assign a group with the agent")
                t.assign(group_id, agent_id, reason)
        except TicketRuleError as error:
            raise FiringRefusedError(f"then.{error.rule}", str(error), for_good=False) from None
        except TicketError as error:
            raise FiringRefusedError("then.status", str(error), for_good=False) from None

    return command


def _macro(intake: Intake, ticket: Ticket, macro_id: str | None) -> MacroUse | None:
    """The shared macro rendered for the ticket, as an agent applying it gets it; a macro that is gone, retired
    or personal refuses the firing for good."""
    if macro_id is None:
        return None
    try:
        use = MacroDesk(intake).prepare(ticket.tenant, ticket.id, UUID(macro_id), MACRO_CALLER, "", None)
        return replace(use, actions=use.actions.checked_by(intake._fields(ticket.tenant)))
    except (CommandRefusedError, MacroRefusedError, ValueError) as error:  # a CustomFieldError is a ValueError
        raise FiringRefusedError("then.macro_id", str(error), for_good=True) from None


def _check_webhooks(intake: Intake, tenant: str, webhook_ids: list[str]) -> None:
    """Each webhook subscription the firing calls is the tenant's (a disabled one is, and gets its delivery
    cancelled, as any); one the tenant does not have refuses the firing for good. The calls themselves are made by
    the webhook deliverer from the published `ticket.trigger_applied` (webhooks/delivery.py)."""
    hooks = find(intake, Webhooks.create_id(tenant), Webhooks) if webhook_ids else None
    known = hooks.subscriptions if hooks is not None else {}
    for n, subscription_id in enumerate(webhook_ids):
        if subscription_id not in known:
            raise FiringRefusedError(
                f"then.webhook_ids.{n}", f"the tenant has no webhook subscription {subscription_id}", for_good=True
            )


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
