"""A setup's ordered rules (routing's rules, SLA's policies): the first that matches wins."""

from __future__ import annotations

import pytest

from services.chassis.domain.ordered_rules import OrderedRules
from services.sla.policies import SlaSetup, SlaSetupError, UnknownError

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


def test_an_sla_setup_defines_retires_and_reorders_its_policies_by_the_same_events() -> None:
    setup = SlaSetup(tenant="acme")
    urgent = {"policy_id": "urgent", "calendar": "24x7", "match": {"priorities": ["P1"]},
              "targets": {"resolution": "PT1H"}}  # fmt: skip
    standard = {"policy_id": "standard", "calendar": "24x7", "targets": {"resolution": "P1D"}}
    setup.define_policy(urgent)
    setup.define_policy(standard)
    setup.define_policy(urgent | {"targets": {"resolution": "PT2H"}})
    setup.define_policy(standard)  # unchanged: no event
    assert [p["policy_id"] for p in setup.policies] == ["urgent", "standard"]
    assert setup.choose("P1", "", None)["targets"] == {"resolution": "PT2H"}  # type: ignore[index]
    with pytest.raises(SlaSetupError, match="names every policy exactly once"):
        setup.reorder_policies(["standard"])
    setup.reorder_policies(["standard", "urgent"])
    setup.reorder_policies(["standard", "urgent"])  # the same order: no event
    with pytest.raises(UnknownError):
        setup.retire_policy("gone")
    setup.retire_policy("standard")
    assert [p["policy_id"] for p in setup.policies] == ["urgent"]
    names = [type(e).__qualname__ for e in setup.collect_events()]
    assert names == ["SlaSetup.Started", *["SlaSetup.PolicyDefined"] * 3, "SlaSetup.PoliciesReordered",
                     "SlaSetup.PolicyRetired"]  # fmt: skip
