"""The triggers' condition evaluator, pure: which conditions hold of a ticket's facts, the reason in words,
and which conditions are refused (naming their place)."""

from __future__ import annotations

import pytest

from services.rules.conditions import ConditionError, Match, check, evaluate
from services.rules.facts import after_actions

URGENT_MAIL = {"status": "new", "priority": "P1", "channel": "email", "tags": ["vip"], "group": None}


def test_an_urgent_email_ticket_matches_and_the_reason_says_why() -> None:
    conditions = check([{"field": "priority", "op": "is", "value": "P1"},
                        {"field": "channel", "op": "is", "value": "email"}])  # fmt: skip
    assert evaluate(Match.ALL, conditions, URGENT_MAIL, {}) == "priority is P1 and channel is email"


def test_all_needs_every_condition_any_needs_one() -> None:
    conditions = check([{"field": "priority", "op": "is", "value": "P1"},
                        {"field": "channel", "op": "is", "value": "chat"}])  # fmt: skip
    assert evaluate(Match.ALL, conditions, URGENT_MAIL, {}) is None
    assert evaluate(Match.ANY, conditions, URGENT_MAIL, {}) == "priority is P1"


def test_tags_contain_a_tag_and_in_matches_one_of_several() -> None:
    assert evaluate(Match.ALL, check([{"field": "tags", "op": "contains", "value": "vip"}]), URGENT_MAIL, {})
    assert evaluate(Match.ALL, check([{"field": "tags", "op": "is_not", "value": "vip"}]), URGENT_MAIL, {}) is None
    assert evaluate(Match.ALL, check([{"field": "channel", "op": "in", "value": ["chat", "email"]}]), URGENT_MAIL, {})


def test_changed_to_holds_only_on_the_event_that_made_the_change() -> None:
    pending = check([{"field": "status", "op": "changed_to", "value": "pending"}])
    now = URGENT_MAIL | {"status": "pending"}
    assert evaluate(Match.ALL, pending, now, URGENT_MAIL) == "status changed to pending"
    assert evaluate(Match.ALL, pending, now, now) is None


def test_greater_and_less_compare_priorities_by_urgency() -> None:
    assert evaluate(Match.ALL, check([{"field": "priority", "op": "greater", "value": "P3"}]), URGENT_MAIL, {})
    assert evaluate(Match.ALL, check([{"field": "priority", "op": "less", "value": "P3"}]), URGENT_MAIL, {}) is None


def test_no_value_is_a_value_is_can_ask_for() -> None:
    unassigned = check([{"field": "group", "op": "is", "value": None}])
    assert evaluate(Match.ALL, unassigned, URGENT_MAIL, {}) == "group is None"


def test_no_conditions_always_hold() -> None:
    assert evaluate(Match.ALL, [], URGENT_MAIL, {}) == "always"


@pytest.mark.parametrize(
    ("conditions", "field"),
    [
        ([{"field": "priority", "op": "is", "value": "P1"}, {"field": "colour", "op": "is", "value": "red"}],
         "if[1].field"),
        ([{"field": "custom_fields", "op": "is", "value": "x"}], "if[0].field"),
        ([{"field": "status", "op": "resembles", "value": "new"}], "if[0].op"),
        ([{"field": "status", "op": "greater", "value": "new"}], "if[0].op"),
        ([{"field": "priority", "op": "is", "value": "urgent"}], "if[0].value"),
        ([{"field": "channel", "op": "in", "value": "email"}], "if[0].value"),
        ([{"field": "status", "op": "contains", "value": "ne"}], "if[0].op"),
    ],
)  # fmt: skip
def test_a_wrong_condition_is_refused_naming_its_place(conditions: list[dict[str, object]], field: str) -> None:
    with pytest.raises(ConditionError) as refused:
        check(conditions)
    assert refused.value.field == field


def test_the_next_trigger_sees_the_facts_as_the_earlier_firing_leaves_them() -> None:
    after = after_actions(URGENT_MAIL, {"priority": "P2", "tags_add": ["escalated"], "tags_remove": ["vip"]})
    assert after["priority"] == "P2"
    assert after["tags"] == ["escalated"]
