"""The triggers' condition evaluator, pure: which conditions hold of a ticket's facts, the reason in words,
and which conditions are refused (naming their place)."""

from __future__ import annotations

import pytest

from schemas.tickets import TicketCustomFieldsChangedV1, TicketOpenedV4
from services.rules.conditions import ConditionError, Match, check, evaluate
from services.rules.facts import after_actions, folded

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


FIELDS = {"product": {"kind": "choice", "choices": ["vpn", "mail"]}, "seats": {"kind": "number", "choices": []},
          "vip": {"kind": "boolean", "choices": []}, "notes": {"kind": "text", "choices": []}}  # fmt: skip
VPN_TICKET = URGENT_MAIL | {"language": "ru", "custom_fields": {"product": "vpn", "seats": 40, "vip": True}}


def test_custom_fields_are_matched_as_their_kind_says_and_kept_with_their_kind() -> None:
    conditions = check([{"field": "custom_fields.product", "op": "in", "value": ["vpn"]},
                        {"field": "custom_fields.seats", "op": "greater", "value": 25},
                        {"field": "custom_fields.vip", "op": "is", "value": True}], fields=FIELDS)  # fmt: skip
    reason = evaluate(Match.ALL, conditions, VPN_TICKET, {})
    assert (
        reason
        == "custom field product is one of vpn and custom field seats is more than 25 and custom field vip is yes"
    )
    assert evaluate(Match.ALL, conditions, URGENT_MAIL, {}) is None  # a ticket without them
    stored = [c.stored() for c in conditions]
    assert stored[0] == {"field": "custom_fields.product", "op": "in", "value": ["vpn"], "kind": "choice",
                         "choices": ["vpn", "mail"]}  # fmt: skip
    assert [c.stored() for c in check(stored)] == stored  # read back without intake
    few = check([{"field": "custom_fields.seats", "op": "less", "value": 25}], fields=FIELDS)
    assert evaluate(Match.ALL, few, VPN_TICKET, {}) is None
    one = check([{"field": "custom_fields.seats", "op": "is", "value": 1}], fields=FIELDS)
    assert evaluate(Match.ALL, one, VPN_TICKET | {"custom_fields": {"seats": True}}, {}) is None  # yes is not 1


def test_the_language_condition_matches_the_tickets_language() -> None:
    russian = check([{"field": "language", "op": "is", "value": "ru"}])
    assert evaluate(Match.ALL, russian, VPN_TICKET, {}) == "language is ru"
    assert evaluate(Match.ALL, russian, VPN_TICKET | {"language": "en"}, {}) is None


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"field": "custom_fields.colour", "op": "is", "value": "red"}, "if.custom_fields.colour"),
        ({"field": "custom_fields.notes", "op": "is", "value": "x"}, "if.custom_fields.notes"),
        ({"field": "custom_fields.product", "op": "is", "value": "fax"}, "if[0].value"),
        ({"field": "custom_fields.product", "op": "greater", "value": "vpn"}, "if[0].op"),
        ({"field": "custom_fields.seats", "op": "is", "value": "many"}, "if[0].value"),
        ({"field": "custom_fields.vip", "op": "is", "value": "yes"}, "if[0].value"),
        ({"field": "language", "op": "is", "value": "russian"}, "if[0].value"),
    ],
)
def test_a_condition_on_an_unknown_or_text_field_or_a_wrong_value_is_refused(
    condition: dict[str, object], field: str
) -> None:
    with pytest.raises(ConditionError) as refused:
        check([condition], fields=FIELDS)
    assert refused.value.field == field


def test_the_facts_learn_the_language_and_custom_fields_from_the_desks_events() -> None:
    fields = {"product": "vpn", "vip": True}
    opened = TicketOpenedV4(ticket_id="t", number="SD-1", requester_id="c", channel="api", category="general",
                            type="request", priority="P3", language="ru", custom_fields=fields)  # fmt: skip
    facts = folded({}, opened)
    assert (facts["language"], facts["custom_fields"]) == ("ru", {"product": "vpn", "vip": True})
    changed = folded(facts, TicketCustomFieldsChangedV1(ticket_id="t", values={"seats": 3}, unset=["vip"]))
    assert changed["custom_fields"] == {"product": "vpn", "seats": 3}
