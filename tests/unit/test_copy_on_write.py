"""An aggregate copied for a command shares its values with the original (the cache's copy), and changing
the copy leaves the original as it was (services/chassis/domain/copy_on_write.py)."""

from __future__ import annotations

import uuid
from copy import deepcopy
from datetime import UTC, datetime, timedelta

from services.routing.choosing import Presence
from services.routing.domain import Agent
from services.sla.clock import Clock


def an_online_agent() -> Agent:
    agent = Agent(tenant="acme", agent_id="ann", groups=["first-line"], skills=["network"], tier=1, capacity=5)
    agent.set_presence(Presence.ONLINE)
    agent.take("ticket-1")
    agent.collect_events()
    return agent


def test_an_agent_copied_takes_a_ticket_and_the_original_holds_what_it_held() -> None:
    cached = an_online_agent()
    copied = deepcopy(cached)
    copied.take("ticket-2")
    assert copied.tickets == ["ticket-1", "ticket-2"]
    assert copied.version == cached.version + 1
    assert cached.tickets == ["ticket-1"]
    assert cached.assignments == 1
    assert cached.pending_events == []
    assert len(copied.pending_events) == 1


def test_a_copy_shares_what_the_agent_holds_until_it_changes() -> None:
    cached = an_online_agent()
    copied = deepcopy(cached)
    assert copied.tickets is cached.tickets
    assert copied.skills is cached.skills
    copied.release("ticket-1")
    assert copied.tickets == []
    assert cached.tickets == ["ticket-1"]


def test_a_clock_copied_fires_and_the_original_keeps_its_warnings_to_come() -> None:
    opened = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    policy = {"policy_id": "p1", "match": {}, "targets": {"first_response": 60.0}, "warn_at": [50]}
    facts: dict[str, str | None] = {"priority": "P2", "category": None, "organisation": None}
    cached = Clock(uuid.uuid4(), "acme", "p1", policy, "requester", opened, facts)
    cached.start_metric("first_response", opened)
    cached.collect_events()
    copied = deepcopy(cached)
    copied.fire(opened + timedelta(seconds=61))
    assert copied.metrics["first_response"]["breached"]
    assert copied.metrics["first_response"]["warned"] == [50]
    assert not cached.metrics["first_response"]["breached"]
    assert cached.metrics["first_response"]["warned"] == []
    assert cached.due_at == opened + timedelta(seconds=30)
    assert cached.pending_events == []


def test_clocks_of_the_same_facts_share_one_copy_of_them() -> None:
    opened = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    policy = {"policy_id": "p1", "match": {}, "targets": {"first_response": 60.0}, "warn_at": [50]}
    clocks = [
        Clock(uuid.uuid4(), "acme", "p1", policy, "requester", opened, {"priority": "P2", "category": None})
        for _ in range(2)
    ]
    assert clocks[0].facts is clocks[1].facts
    assert clocks[0].policy is clocks[1].policy
