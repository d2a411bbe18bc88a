"""Routing's what-if on the in-memory store: a month routed live, then replayed under the current rules
and under a candidate (the same scenarios run on PostgreSQL and Kafka in tests/integration)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from pydantic import ValidationError

from schemas.keywords import KeywordDigests
from schemas.registry import TypedEnvelope, parse_data, typed
from services.chassis.whatif.history import in_order
from services.chassis.whatif.replay import WhatIfRequest
from services.routing.application import Routing
from services.routing.choosing import Presence, Strategy
from services.routing.publication import publication
from services.routing.reactions import reactions
from services.routing.what_if import RoutingCandidate, replay_from
from tests.routing_month import month_events, month_of_tickets

TENANT = "acme"
DIGESTS = KeywordDigests(b"a test keyword secret")
RULES = [
    {"rule_id": "billing", "group_id": "billing", "categories": ["billing"]},
    {"rule_id": "network", "group_id": "network", "categories": ["network"]},
]


def set_up(routing: Routing) -> None:
    routing.define_group(TENANT, "first-line", 1, Strategy.LEAST_LOADED)
    routing.define_group(TENANT, "billing", 1, Strategy.ROUND_ROBIN)
    routing.define_group(TENANT, "network", 2, Strategy.LEAST_LOADED)
    for rule in RULES:
        routing.add_rule(TENANT, rule)
    agents = {"ann": "billing", "boris": "billing", "sam": "first-line", "sue": "first-line", "vic": "network"}
    for agent, group in agents.items():
        routing.register_agent(TENANT, agent, [group], [], 1, 50 if agent == "vic" else 2)
        routing.set_presence(TENANT, agent, Presence.ONLINE)


def live_month(count: int = 90) -> tuple[Routing, list[TypedEnvelope]]:
    """Routing deciding on a month of tickets as they come, sam away for its middle third; the window's
    history as the topics would give it."""
    live = Routing(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    set_up(live)
    apply = reactions(live, DIGESTS)
    events = list(month_events(TENANT, month_of_tickets(count)))
    for n, envelope in enumerate(events, start=1):
        if n == len(events) // 3:
            live.set_presence(TENANT, "sam", Presence.OFFLINE)
        if n == 2 * len(events) // 3:
            live.set_presence(TENANT, "sam", Presence.ONLINE)
        apply(envelope, parse_data(envelope), Tracking("intake", n))
    publish = publication(live)
    decided = [found[1] for n in live.recorder.select_notifications(1, 10**6) if (found := publish(n)) is not None]
    history = [typed(e.model_dump()) for e in [*events, *decided]]
    return live, sorted(history, key=in_order)


def replay(live: Routing, history: list[TypedEnvelope], candidate: dict[str, Any]) -> dict[str, Any]:
    run = replay_from(live, lambda tenant, since, read: [e for e in history if e.occurred_at >= since], DIGESTS)
    seen: list[tuple[int, int]] = []
    report = run(WhatIfRequest(TENANT, 30, candidate), lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] > 0
    return report


def test_the_current_rules_replayed_make_every_decision_the_desk_made() -> None:
    live, history = live_month()
    before = live.recorder.max_notification_id()

    report = replay(live, history, {"rules": RULES})

    assert report["reproduces_history"]["differed"] == 0, report["reproduces_history"]
    assert report["reproduces_history"]["checked"] == 90
    assert report["differed"]["tickets"] == 0
    assert live.recorder.max_notification_id() == before, "the live desk records nothing"


def test_sending_billing_to_the_network_group_moves_exactly_the_billing_tickets() -> None:
    live, history = live_month()
    candidate = {"rules": [{"rule_id": "billing", "group_id": "network", "categories": ["billing"]}, RULES[1]]}

    report = replay(live, history, candidate)

    billing = {e.data.ticket_id for e in history if e.type == "ticket.opened" and e.data.category == "billing"}  # type: ignore[attr-defined]
    assert report["differed"]["tickets"] == len(billing)
    example = report["differed"]["examples"][0]
    assert example["ticket_id"] in billing
    assert example["before"]["group_id"] == "billing"
    assert example["after"] == example["after"] | {"group_id": "network", "agent_id": "vic"}
    assert "rule 'billing' matched" in example["after"]["reason"]
    groups = report["assignments"]["per_group"]
    assert groups["billing"]["after"] == 0
    assert groups["network"]["change"] == groups["billing"]["before"]


def test_a_candidate_naming_an_unknown_strategy_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as refused:
        RoutingCandidate.model_validate({"rules": [{"rule_id": "x", "group_id": "g", "tiers": [1]}]})
    assert refused.value.errors()[0]["loc"] == ("rules", 0, "tiers")
    with pytest.raises(ValidationError) as refused:
        RoutingCandidate.model_validate({"rules": [], "strategies": {"g": "fastest"}})
    assert refused.value.errors()[0]["loc"] == ("strategies", "g")


def test_a_window_of_no_days_back_replays_nothing() -> None:
    live, _ = live_month(12)
    later = datetime.now(UTC) + timedelta(days=1)
    run = replay_from(live, lambda tenant, since, read: [], DIGESTS, now=lambda: later)
    report = run(WhatIfRequest(TENANT, 0, {"rules": RULES}), lambda done, total: None)
    assert report["events"] == 0
    assert report["reproduces_history"]["differed"] == 0
