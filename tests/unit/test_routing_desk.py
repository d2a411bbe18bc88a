"""The routing desk in memory: rules, agents, capacity, the queue and why each choice was made."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.routing.application import Routing
from services.routing.choosing import Presence, TicketFacts
from services.routing.domain import RoutingError


@pytest.fixture
def desk() -> Routing:
    routing = Routing(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    routing.start_desk("acme", "first-line")
    routing.define_group("acme", "billing", 1, "skills_match", None)
    routing.define_group("acme", "second-line", 2, "least_loaded", None)
    routing.add_rule(
        "acme", {"rule_id": "billing", "group_id": "billing", "categories": ["billing"], "skills": ["billing"]}
    )
    routing.add_rule(
        "acme", {"rule_id": "ru-billing", "group_id": "billing", "tags": ["ru"], "skills": ["billing", "ru"]}
    )
    routing.register_agent("acme", "ann", ["billing"], ["billing"], 1, 2)
    routing.register_agent("acme", "boris", ["billing"], ["billing", "ru"], 1, 2)
    routing.register_agent("acme", "sam", ["first-line"], [], 1, 1)
    for agent in ("ann", "boris", "sam"):
        routing.set_presence("acme", agent, Presence.ONLINE)
    return routing


def facts(**given: object) -> TicketFacts:
    base: dict[str, object] = {"category": "general", "type": "request", "priority": "P3", "channel": "email"}
    return TicketFacts(**(base | given))  # type: ignore[arg-type]


def test_a_billing_question_in_russian_goes_to_the_billing_agent_who_speaks_russian(desk: Routing) -> None:
    routed = desk.route("acme", uuid4(), facts(category="other", tags=frozenset({"ru"})))
    assert (routed.group_id, routed.agent_id) == ("billing", "boris")
    assert routed.reason["rule"] == "ru-billing"
    assert routed.reason["agents_passed_over"]["ann"] == "lacks ['ru']"


def test_the_same_ticket_is_never_routed_twice(desk: Routing) -> None:
    ticket_id = uuid4()
    first = desk.route("acme", ticket_id, facts())
    again = desk.route("acme", ticket_id, facts())
    assert again.agent_id == first.agent_id
    assert desk.agent("acme", "sam").tickets == [str(ticket_id)]


def test_a_full_group_queues_tickets_and_the_queue_drains_when_capacity_frees(desk: Routing) -> None:
    first, waiting_low, waiting_high = uuid4(), uuid4(), uuid4()
    desk.route("acme", first, facts())
    queued_low = desk.route("acme", waiting_low, facts(priority="P4"))
    queued_high = desk.route("acme", waiting_high, facts(priority="P1"))
    assert (queued_low.agent_id, queued_high.agent_id) == (None, None)
    assert [w["ticket_id"] for w in desk.setup("acme").waiting("first-line")] == [str(waiting_high), str(waiting_low)]

    drained = desk.release("acme", first)

    assert [r.id for r in drained] == [waiting_high], "the P1 goes first, the P4 still waits"
    assert desk.agent("acme", "sam").tickets == [str(waiting_high)]


def test_the_queue_drains_when_an_agent_comes_online(desk: Routing) -> None:
    desk.set_presence("acme", "sam", Presence.AWAY)
    waiting = desk.route("acme", uuid4(), facts())
    assert waiting.reason["agents_passed_over"] == {"sam": "is away"}

    drained = desk.set_presence("acme", "sam", Presence.ONLINE)

    assert [r.agent_id for r in drained] == ["sam"]
    assert desk.setup("acme").waiting("first-line") == []


def test_no_agent_ever_goes_above_capacity(desk: Routing) -> None:
    for _ in range(10):
        desk.route("acme", uuid4(), facts(category="billing"))
    loads = {name: len(desk.agent("acme", name).tickets) for name in ("ann", "boris")}
    assert loads == {"ann": 2, "boris": 2}
    assert len(desk.setup("acme").waiting("billing")) == 6


def test_a_rule_for_an_unknown_group_is_refused(desk: Routing) -> None:
    with pytest.raises(RoutingError, match="no group 'nowhere'"):
        desk.add_rule("acme", {"rule_id": "x", "group_id": "nowhere"})
