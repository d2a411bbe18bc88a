"""Timed triggers without a store or a clock: when a trigger falls due for a ticket (timing.py), which time
conditions are refused, and the in-memory rules service keeping, moving, dropping and firing a ticket's timer
once per due instant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.rules import conditions
from services.rules.conditions import ConditionError
from services.rules.domain import TicketAutomation
from services.rules.timing import due_epoch
from tests.unit.test_rules_firing import TENANT, Desk


def pending_for(hours: float, match: str = "all", **extra: Any) -> dict[str, Any]:
    return {
        "when": ["time"],
        "match": match,
        "if": [
            {"field": "status", "op": "is", "value": "pending"},
            {"field": "hours_since", "of": "status_changed", "op": "greater", "value": hours, "business_hours": False},
            *extra.get("more", []),
        ],
    }


NOT_ANSWERED = {"field": "replied_last", "op": "is_not", "value": "customer"}
FACTS = {"status": "pending", "status_changed_at": 1000.0, "opened_at": 500.0}


def test_a_pending_ticket_falls_due_its_hours_after_the_status_changed() -> None:
    assert due_epoch(pending_for(2), FACTS, others_hold=True) == 1000.0 + 2 * 3600
    assert due_epoch(pending_for(0.5), FACTS, others_hold=True) == 1000.0 + 1800


def test_every_time_condition_must_pass_under_all_and_one_under_any() -> None:
    opened = {"field": "hours_since", "of": "opened", "op": "greater", "value": 4}
    assert due_epoch(pending_for(1, more=[opened]), FACTS, others_hold=True) == 500.0 + 4 * 3600
    assert due_epoch(pending_for(1, "any", more=[opened]), FACTS, others_hold=True) == 1000.0 + 3600


def test_a_moment_not_yet_come_or_a_condition_not_holding_keeps_no_timer() -> None:
    replied = {"field": "hours_since", "of": "agent_replied", "op": "greater", "value": 4}
    assert due_epoch(pending_for(1, more=[replied]), FACTS, others_hold=True) is None
    assert due_epoch(pending_for(1), FACTS, others_hold=False) is None
    assert due_epoch(pending_for(1) | {"when": ["ticket.opened"]}, FACTS, others_hold=True) is None


def test_hours_since_holds_from_its_due_instant_on() -> None:
    [_, since] = conditions.check(pending_for(1)["if"])
    assert not conditions.holds(since, FACTS, FACTS, at=1000.0 + 3599)
    assert conditions.holds(since, FACTS, FACTS, at=1000.0 + 3600)
    assert since.describe() == "status changed more than 1 hours ago"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"of": "born"}, "if[0].of"),
        ({"op": "less"}, "if[0].op"),
        ({"value": "soon"}, "if[0].value"),
        ({"value": 0}, "if[0].value"),
        ({"business_hours": True}, "if[0].calendar"),
        ({"business_hours": True, "calendar": "berlin"}, "if[0].calendar"),
        ({"calendar": "berlin"}, "if[0].calendar"),
    ],
)
def test_a_wrong_time_condition_is_refused_naming_its_part(change: dict[str, Any], field: str) -> None:
    condition = {"field": "hours_since", "of": "opened", "op": "greater", "value": 4} | change
    with pytest.raises(ConditionError) as refused:
        conditions.check([condition])
    assert refused.value.field == field


def automation(desk: Desk, ticket_id: str) -> TicketAutomation:
    found: object = desk.rules.repository.get(TicketAutomation.create_id(TENANT, ticket_id))
    assert isinstance(found, TicketAutomation)
    return found


def pend(desk: Desk, ticket_id: str) -> None:
    desk.event("ticket.status_changed", {"ticket_id": ticket_id, "status": "pending", "change": "pending"})


def comment(desk: Desk, ticket_id: str, author_kind: str) -> None:
    data = {"ticket_id": ticket_id, "comment_id": "c", "public": True, "author_id": "x", "channel": "email",
            "author_kind": author_kind}  # fmt: skip
    desk.event("ticket.commented", data, version=2)


def test_a_timed_trigger_fires_once_on_its_instant_and_not_before() -> None:
    desk = Desk()
    trigger_id = desk.trigger(name="Chase", then={"tags_add": ["chase"]}, **pending_for(0.5, more=[NOT_ANSWERED]))
    ticket_id = desk.open()
    assert automation(desk, ticket_id).timers == {}  # new, not pending
    pend(desk, ticket_id)
    due = automation(desk, ticket_id).timers[trigger_id]
    key = f"{TicketAutomation.create_id(TENANT, ticket_id)}/{trigger_id}"
    assert not desk.rules.fire_timers([key], datetime.fromtimestamp(due - 1, UTC))
    assert desk.firings() == []
    assert desk.rules.fire_timers([key], datetime.fromtimestamp(due, UTC))
    [firing] = desk.firings()
    assert (firing.event_type_seen, firing.actions) == ("time", {"tags_add": ["chase"]})
    assert "status changed more than 0.5 hours ago" in firing.reason
    assert not desk.rules.fire_timers([key], datetime.fromtimestamp(due + 5, UTC))  # a second scheduler
    assert len(desk.firings()) == 1
    assert automation(desk, ticket_id).timers == {}


def test_the_customer_answering_drops_the_timer_and_an_agent_reply_does_not() -> None:
    desk = Desk()
    trigger_id = desk.trigger(name="Chase", then={"tags_add": ["chase"]}, **pending_for(1, more=[NOT_ANSWERED]))
    ticket_id = desk.open()
    pend(desk, ticket_id)
    comment(desk, ticket_id, "staff")
    assert trigger_id in automation(desk, ticket_id).timers
    comment(desk, ticket_id, "requester")
    assert automation(desk, ticket_id).timers == {}
    pend(desk, ticket_id)  # pending again after the answer: a later instant, but the customer spoke last
    assert automation(desk, ticket_id).timers == {}
