"""A setup's ordered rules (routing's rules, SLA's policies): the first that matches wins."""

from __future__ import annotations

from services.chassis.domain.ordered_rules import OrderedRules

RULES = OrderedRules("rule_id")
VIP = {"rule_id": "vip", "group_id": "tier2"}
BILLING = {"rule_id": "billing", "group_id": "finance"}


def test_a_new_rule_is_tried_last_and_a_changed_one_keeps_its_place() -> None:
    rules = RULES.added(RULES.added([], VIP), BILLING)
    assert RULES.ids(rules) == ["vip", "billing"]
    changed = RULES.changed(rules, {"rule_id": "vip", "group_id": "tier3"})
    assert changed == [{"rule_id": "vip", "group_id": "tier3"}, BILLING]


def test_defining_a_rule_changes_it_in_place_or_adds_it_last() -> None:
    rules = RULES.defined([VIP], BILLING)
    assert rules == [VIP, BILLING]
    assert RULES.defined(rules, VIP | {"group_id": "x"}) == [VIP | {"group_id": "x"}, BILLING]


def test_a_retired_rule_is_no_longer_tried() -> None:
    assert RULES.retired([VIP, BILLING], "vip") == [BILLING]
    assert RULES.find([BILLING], "vip") is None


def test_a_new_order_names_every_rule_once_and_moves_them() -> None:
    rules = [VIP, BILLING]
    assert RULES.names_each_once(rules, ["billing", "vip"])
    assert not RULES.names_each_once(rules, ["billing"])
    assert not RULES.names_each_once(rules, ["billing", "billing"])
    assert not RULES.moves(rules, ["vip", "billing"])
    assert RULES.reordered(rules, ["billing", "vip"]) == [BILLING, VIP]
