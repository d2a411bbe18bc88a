"""A ticket's facts as the rules service learns them from the desk's public events, and which of those
events a trigger may answer (`when`). Pure.

The facts are what the conditions read (conditions.FIELDS, and `custom_fields`: key -> value of the ticket's
choice, number and boolean fields, the only ones the desk publishes). `ticket.commented` answers a trigger only when
the customer wrote: staff notes and replies (a trigger's own note among them) are the desk talking to itself.
"""

from __future__ import annotations

from typing import Any

from schemas.envelope import EventData
from schemas.sla import SlaBreachedV1, SlaCustomerRemindedV1, SlaWarningV1
from schemas.tickets import (
    AuthorKind,
    TicketAssignedV1,
    TicketCommentedV2,
    TicketCustomFieldsChangedV1,
    TicketOpenedV3,
    TicketOpenedV4,
    TicketPriorityChangedV1,
    TicketRatedV1,
    TicketReclassifiedV1,
    TicketStatusChangedV1,
)

# The events a trigger may name in `when`, in the order the API lists them.
WHEN_EVENTS = (
    "ticket.opened",
    "ticket.commented",
    "ticket.status_changed",
    "ticket.priority_changed",
    "ticket.assigned",
    "ticket.custom_fields_changed",
    "ticket.rated",
    "sla.warning",
    "sla.breached",
    "sla.customer_reminded",
    "time",  # the passage of time: timed triggers (timing.py), fired by the scheduler, never by an event
)


def ticket_of(data: EventData) -> str | None:
    ticket_id = getattr(data, "ticket_id", None)
    return ticket_id if isinstance(ticket_id, str) else None


def folded(facts: dict[str, Any], data: EventData) -> dict[str, Any]:
    """The facts after `data` (unchanged when it says nothing the conditions read)."""
    match data:
        case TicketOpenedV3():
            return {
                "status": "new",
                "priority": data.priority.value,
                "category": data.category,
                "type": data.type.value,
                "channel": data.channel.value,
                "tags": sorted(set(data.tags)),
                "organisation": data.organisation,
                "group": data.group_id,
                "assignee": None,
                "requester": data.requester_id,
                "language": data.language if isinstance(data, TicketOpenedV4) else None,
                "custom_fields": dict(data.custom_fields) if isinstance(data, TicketOpenedV4) else {},
            }
        case TicketCustomFieldsChangedV1():
            values = dict(facts.get("custom_fields") or {}) | data.values
            return facts | {"custom_fields": {k: v for k, v in values.items() if k not in data.unset}}
        case TicketStatusChangedV1():
            return facts | {"status": data.status}
        case TicketPriorityChangedV1():
            return facts | {"priority": data.priority.value}
        case TicketAssignedV1():
            return facts | {"group": data.group_id, "assignee": data.agent_id}
        case TicketReclassifiedV1():
            tags = (set(facts.get("tags", [])) | set(data.tags_added)) - set(data.tags_removed)
            changed: dict[str, Any] = {"tags": sorted(tags)}
            changed |= {"category": data.category} if data.category is not None else {}
            changed |= {"type": data.type.value} if data.type is not None else {}
            return facts | changed
    return facts


def moments_of(data: EventData, facts: dict[str, Any]) -> dict[str, str | None]:
    """The moments of the ticket's life `data` is (timing.ANCHORS), each with who now wrote last (a public
    reply: "customer" or "agent") or None. Opening is the first status change too (time in status counts from
    it). Internal notes are the desk talking to itself, and a comment of someone other than the requester
    (a colleague in copy) is not the customer's answer: neither is a moment."""
    match data:
        case TicketOpenedV3():
            return {"opened": None, "status_changed": None}
        case TicketStatusChangedV1():
            return {"status_changed": None}
        case TicketAssignedV1():
            return {"assigned": None}
        case TicketCommentedV2() if data.public:
            kind = data.kind_for(str(facts.get("requester", "")))
            if kind == AuthorKind.REQUESTER:
                return {"customer_replied": "customer"}
            if kind == AuthorKind.STAFF:
                return {"agent_replied": "agent"}
    return {}


def when_of(data: EventData, facts: dict[str, Any]) -> str | None:
    """The `when` name `data` answers to, or None when no trigger answers it."""
    match data:
        case TicketCommentedV2():
            by_customer = data.kind_for(str(facts.get("requester", ""))) == AuthorKind.REQUESTER
            return "ticket.commented" if by_customer else None
        case (
            TicketOpenedV3()
            | TicketStatusChangedV1()
            | TicketPriorityChangedV1()
            | TicketAssignedV1()
            | TicketCustomFieldsChangedV1()
            | TicketRatedV1()
            | SlaWarningV1()
            | SlaBreachedV1()
            | SlaCustomerRemindedV1()
        ):
            return data.event_type
    return None


def after_actions(facts: dict[str, Any], actions: dict[str, Any]) -> dict[str, Any]:
    """The facts as a firing's actions will leave them: what the next trigger in order sees for the same event
    (intake applies the firings in the order they are published)."""
    changed = dict(facts)
    for action, field in (("status", "status"), ("priority", "priority"), ("group_id", "group")):
        if actions.get(action) is not None:
            changed[field] = actions[action]
    if actions.get("agent_id") is not None:
        changed["assignee"] = actions["agent_id"]
    if actions.get("custom_fields"):
        changed["custom_fields"] = dict(changed.get("custom_fields") or {}) | dict(actions["custom_fields"])
    if actions.get("tags_add") or actions.get("tags_remove"):
        tags = (set(changed.get("tags", [])) | set(actions.get("tags_add", []))) - set(actions.get("tags_remove", []))
        changed["tags"] = sorted(tags)
    return changed
