"""A desk setup's specs as `DeskSetup` (domain.py) stores them: a group's, checked against the groups
already defined, and a rule's, as `choosing` reads it. Pure functions over plain values."""

from __future__ import annotations

from typing import Any

from services.chassis.domain.ordered_rules import OrderedRules
from services.routing.choosing import Rule, Strategy
from services.routing.errors import RoutingError

ESCALATION_TRIGGERS = ("warning", "breach")
RULES = OrderedRules("rule_id")


def group_spec(
    groups: dict[str, dict[str, Any]],
    group_id: str,
    tier: int,
    strategy: Strategy,
    escalates_to: str | None,
    escalate_on: list[str],
) -> dict[str, Any]:
    """The spec of `group_id` as defined; refused when it escalates nowhere higher than itself."""
    if escalates_to is not None:
        if escalates_to == group_id:
            raise RoutingError("a group cannot escalate to itself", "escalates_to")
        if escalates_to not in groups:
            raise RoutingError(f"no group {escalates_to!r} to escalate to", "escalates_to")
        if groups[escalates_to]["tier"] <= tier:
            raise RoutingError("escalation goes to a higher tier", "escalates_to")
    if escalate_on and escalates_to is None:
        raise RoutingError("escalating on SLA events needs a group to escalate to", "escalate_on")
    return {
        "tier": tier,
        "strategy": strategy.value,
        "escalates_to": escalates_to,
        "escalate_on": sorted(set(escalate_on)),
    }


def rule_of(spec: dict[str, Any]) -> Rule:
    """A stored rule's spec as `choosing` matches it."""
    sets = {key: frozenset(value) for key, value in spec.items() if isinstance(value, list)}
    return Rule(rule_id=spec["rule_id"], group_id=spec["group_id"], **sets)
