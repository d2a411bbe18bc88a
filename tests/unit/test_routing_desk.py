"""The routing desk in memory: tickets arrive as events, decisions leave as `routing.decided`.

Fast scenarios on eventsourcing's in-memory store; the same code runs against real
Kafka and PostgreSQL in tests/integration/test_routing_*.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from schemas.envelope import Envelope
from schemas.keywords import KeywordDigests
from schemas.registry import parse_data
from schemas.routing import ROUTING_ACTOR, RoutingDecidedV1
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env
from services.routing.application import Routing
from services.routing.choosing import Presence, Strategy
from services.routing.errors import NotFoundError, RoutingError
from services.routing.publication import publication
from services.routing.reactions import reactions

TENANT = "acme"


class Desk:
    """Routing with a hand on the ticket stream: each call is one upstream event."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.routing = Routing(env=env or {"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.apply = reactions(self.routing, KeywordDigests(b"a test keyword secret"))
        self.positions = itertools.count(1)
        self.last_tracking: Tracking | None = None
        self.publish = publication(self.routing)

    def event(
        self, type: str, data: dict[str, Any], actor: str = "customer-1", version: int = 1,
        at: datetime | None = None,
    ) -> None:  # fmt: skip
        position = next(self.positions)
        envelope = Envelope(
            id=uuid.uuid4(), type=type, version=version, source="intake", subject=data["ticket_id"], tenant=TENANT,
            actor=actor, occurred_at=at or datetime.now(UTC), sequence=1, position=position, correlation_id="c",
            causation_id="c", data=data,
        )  # fmt: skip
        self.last_tracking = Tracking("intake", position)
        self.apply(envelope, parse_data(envelope), self.last_tracking)

    def open(
        self, priority: str = "P3", category: str = "general", type: str = "request", at: datetime | None = None,
        **more: Any,
    ) -> str:  # fmt: skip
        ticket_id = str(uuid.uuid4())
        data = {"ticket_id": ticket_id, "number": "SD-1", "requester_id": "c1", "channel": "email", "tags": [],
                "category": category, "type": type, "priority": priority, "keywords": []} | more  # fmt: skip
        self.event("ticket.opened", data, version=2, at=at)
        return ticket_id

    def status(self, ticket_id: str, status: str, change: str) -> None:
        self.event("ticket.status_changed", {"ticket_id": ticket_id, "status": status, "change": change})

    def decisions(self, ticket_id: str | None = None) -> list[RoutingDecidedV1]:
        found = []
        for notification in self.routing.recorder.select_notifications(1, 100_000):
            if (record := self.publish(notification)) is not None:
                data = parse_data(record[1])
                assert isinstance(data, RoutingDecidedV1)
                if ticket_id is None or data.ticket_id == ticket_id:
                    found.append(data)
        return found

    def agent_of(self, ticket_id: str) -> str | None:
        return self.routing.ticket(TENANT, ticket_id).agent_id

    def load(self, agent_id: str) -> int:
        return len(self.routing.agent(TENANT, agent_id).tickets)

    def online(self, *agents: str) -> None:
        for agent in agents:
            self.routing.set_presence(TENANT, agent, Presence.ONLINE)


@pytest.fixture(params=["in-memory", "sqlite"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Desk:
    """Each scenario on the in-memory store and on SQLite (shared reads from the cache, exact tracking)."""
    desk = Desk(store_env(Settings(data_dir=tmp_path), "routing") if request.param == "sqlite" else None)
    routing = desk.routing
    routing.define_group(TENANT, "third-line", 3, Strategy.LEAST_LOADED)
    routing.define_group(TENANT, "second-line", 2, Strategy.LEAST_LOADED, escalates_to="third-line",
                         escalate_on=["breach"])  # fmt: skip
    routing.define_group(TENANT, "first-line", 1, Strategy.ROUND_ROBIN, escalates_to="second-line",
                         escalate_on=["warning"], default=True)  # fmt: skip
    routing.define_group(TENANT, "billing", 1, Strategy.SKILLS_MATCH, escalates_to="second-line")
    routing.add_rule(TENANT, {"rule_id": "outage", "group_id": "second-line", "priorities": ["P1"],
                              "types": ["incident"]})  # fmt: skip
    routing.add_rule(TENANT, {"rule_id": "billing-ru", "group_id": "billing", "categories": ["billing"],
                              "words": ["счёт", "оплата"], "skills": ["billing", "ru"]})  # fmt: skip
    routing.add_rule(TENANT, {"rule_id": "billing", "group_id": "billing", "categories": ["billing"],
                              "skills": ["billing"]})  # fmt: skip
    routing.register_agent(TENANT, "ann", ["billing"], ["billing"], 1, 2)
    routing.register_agent(TENANT, "boris", ["billing"], ["billing", "ru"], 1, 2)
    routing.register_agent(TENANT, "sam", ["first-line"], [], 1, 1)
    routing.register_agent(TENANT, "tess", ["first-line"], [], 1, 1)
    routing.register_agent(TENANT, "vic", ["second-line"], ["network"], 2, 3)
    routing.register_agent(TENANT, "wanda", ["third-line"], ["network"], 3, 3)
    desk.online("ann", "boris", "sam", "tess", "vic", "wanda")
    return desk


def test_a_billing_question_in_russian_goes_to_the_billing_agent_who_speaks_russian(desk: Desk) -> None:
    ticket = desk.open(category="billing", keywords=["не", "прошла", "оплата"])
    decided = desk.decisions(ticket)[-1]
    assert (decided.kind, decided.group_id, decided.agent_id, decided.rule_id) == ("routed", "billing", "boris",
                                                                                    "billing-ru")  # fmt: skip
    assert decided.rules_passed_over == {"outage": "type is not one of ['incident']"}
    assert decided.agents_passed_over == {"ann": "lacks ['ru']"}
    assert "rule 'billing-ru' matched" in decided.reason


def test_a_p1_outage_skips_to_second_line(desk: Desk) -> None:
    ticket = desk.open(priority="P1", type="incident")
    decided = desk.decisions(ticket)[-1]
    assert (decided.group_id, decided.tier, decided.agent_id) == ("second-line", 2, "vic")


def test_a_ticket_no_rule_matches_goes_to_the_default_group_round_robin(desk: Desk) -> None:
    first, second = desk.open(), desk.open()
    assert {desk.agent_of(first), desk.agent_of(second)} == {"sam", "tess"}
    assert desk.decisions(first)[-1].rule_id is None


def test_a_ticket_imported_with_its_history_is_not_routed_again(desk: Desk) -> None:
    ticket_id = str(uuid.uuid4())
    origin = {"system": "rt", "url": "https://rt.example", "id": "123"}
    data = {"ticket_id": ticket_id, "number": "SD-2019-1", "requester_id": "c1", "channel": "email", "tags": [],
            "category": "general", "type": "request", "priority": "P1", "imported_from": origin}  # fmt: skip
    desk.event("ticket.opened", data, version=5)
    desk.status(ticket_id, "open", "reopened")
    assert desk.decisions(ticket_id) == []
    with pytest.raises(NotFoundError):
        desk.agent_of(ticket_id)  # routing never took it on


def test_no_agent_goes_above_capacity_and_the_queue_drains_when_a_ticket_is_resolved(desk: Desk) -> None:
    tickets = [desk.open() for _ in range(4)]  # sam and tess hold one each
    assert [desk.agent_of(t) for t in tickets[2:]] == [None, None]
    assert desk.decisions(tickets[2])[-1].kind == "queued"
    assert (desk.load("sam"), desk.load("tess")) == (1, 1)
    desk.status(tickets[0], "resolved", "resolved")
    successor = desk.agent_of(tickets[0])
    assert desk.agent_of(tickets[2]) == successor  # the oldest waiting ticket, to the freed agent
    assert desk.decisions(tickets[2])[-1].kind == "from_queue"
    assert desk.agent_of(tickets[3]) is None


def test_the_queue_serves_highest_priority_first_then_oldest(desk: Desk) -> None:
    desk.open(), desk.open()  # first line full
    low, high, later_high = desk.open(priority="P4"), desk.open(priority="P2"), desk.open(priority="P2")
    assert desk.routing.queue(TENANT, "first-line").in_order() == [high, later_high, low]


def test_the_queue_orders_by_when_tickets_were_opened_not_when_routing_heard_of_them(desk: Desk) -> None:
    desk.open(), desk.open()  # first line full
    # over several partitions the later ticket can reach routing first
    later = desk.open(at=datetime(2026, 11, 23, 10, 0, 1, tzinfo=UTC))
    earlier = desk.open(at=datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC))
    assert desk.routing.queue(TENANT, "first-line").in_order() == [earlier, later]


def test_the_queue_drains_when_an_agent_comes_online(desk: Desk) -> None:
    desk.routing.register_agent(TENANT, "uma", ["first-line"], [], 1, 5)
    desk.open(), desk.open()
    waiting = [desk.open() for _ in range(3)]
    assert all(desk.agent_of(t) is None for t in waiting)
    desk.online("uma")
    assert [desk.agent_of(t) for t in waiting] == ["uma"] * 3


def test_raising_an_agents_capacity_takes_waiting_tickets(desk: Desk) -> None:
    desk.open(), desk.open()
    waiting = desk.open()
    desk.routing.register_agent(TENANT, "sam", ["first-line"], [], 1, 2)
    assert desk.agent_of(waiting) == "sam"


def test_an_agent_going_offline_gives_back_unstarted_tickets_only(desk: Desk) -> None:
    started, unstarted = desk.open(category="billing"), desk.open(category="billing")
    assert {desk.agent_of(started), desk.agent_of(unstarted)} == {"ann", "boris"}
    holder = desk.agent_of(started)
    assert holder is not None
    other = ({"ann", "boris"} - {holder}).pop()
    desk.status(started, "open", "work_started")
    mine = [t for t in (started, unstarted) if desk.agent_of(t) == holder]
    desk.routing.set_presence(TENANT, holder, Presence.OFFLINE)
    assert desk.agent_of(started) == holder
    for ticket in set(mine) - {started}:
        kinds = [d.kind for d in desk.decisions(ticket)]
        assert kinds[-2:] == ["requeued", "from_queue"]
        assert desk.agent_of(ticket) == other


def test_an_away_agent_gets_nothing_new(desk: Desk) -> None:
    desk.routing.set_presence(TENANT, "sam", Presence.AWAY)
    ticket = desk.open()
    assert desk.agent_of(ticket) == "tess"
    assert desk.decisions(ticket)[-1].agents_passed_over == {"sam": "is away"}


def test_a_manual_assignment_is_followed_and_never_overridden(desk: Desk) -> None:
    ticket = desk.open()
    routed_to = desk.agent_of(ticket)
    desk.event("ticket.assigned", {"ticket_id": ticket, "group_id": "billing", "agent_id": "ann"}, actor="lead-1")
    assert desk.agent_of(ticket) == "ann"
    assert routed_to is not None
    assert desk.load(routed_to) == 0
    assert desk.load("ann") == 1
    desk.routing.set_presence(TENANT, "ann", Presence.OFFLINE)  # a person's choice stays with ann
    assert desk.agent_of(ticket) == "ann"
    desk.status(ticket, "resolved", "resolved")
    assert desk.load("ann") == 0


def test_routings_own_assignment_coming_back_from_intake_changes_nothing(desk: Desk) -> None:
    ticket = desk.open()
    agent = desk.agent_of(ticket)
    desk.event("ticket.assigned", {"ticket_id": ticket, "group_id": "first-line", "agent_id": agent},
               actor=ROUTING_ACTOR)  # fmt: skip
    assert not desk.routing.ticket(TENANT, ticket).by_person


def test_escalation_on_demand_goes_to_the_next_tier_and_frees_the_agent(desk: Desk) -> None:
    ticket = desk.open()
    agent = desk.agent_of(ticket)
    assert agent is not None
    desk.routing.escalate(TENANT, ticket, "needs network access", {"actor": "sam"})
    decided = desk.decisions(ticket)[-1]
    assert (decided.kind, decided.group_id, decided.agent_id, decided.overrides_manual) == (
        "escalated", "second-line", "vic", True)  # fmt: skip
    assert "escalated from 'first-line': needs network access" in decided.reason
    assert desk.load(agent) == 0


def test_the_top_tier_cannot_escalate(desk: Desk) -> None:
    ticket = desk.open(priority="P1", type="incident")
    desk.routing.escalate(TENANT, ticket, "still down")
    with pytest.raises(RoutingError, match="no higher tier"):
        desk.routing.escalate(TENANT, ticket, "still down")


def sla(kind: str, ticket_id: str, **more: Any) -> tuple[str, dict[str, Any]]:
    data = {"ticket_id": ticket_id, "policy_id": "gold", "metric": "resolution", "target_seconds": 3600,
            "due_at": "2026-11-23T12:00:00+00:00", "business_seconds_used": 2700} | more  # fmt: skip
    return kind, data


def test_an_sla_warning_escalates_only_where_the_groups_policy_says_so(desk: Desk) -> None:
    first_line, billing = desk.open(), desk.open(category="billing")
    desk.event(*sla("sla.warning", first_line, threshold_percent=75), actor="system:sla")
    desk.event(*sla("sla.warning", billing, threshold_percent=75), actor="system:sla")
    assert desk.decisions(first_line)[-1].group_id == "second-line"
    assert "SLA resolution at 75 %" in desk.decisions(first_line)[-1].reason
    assert desk.decisions(billing)[-1].group_id == "billing"


def test_an_sla_breach_does_not_move_a_ticket_a_person_assigned(desk: Desk) -> None:
    ticket = desk.open(priority="P1", type="incident")
    desk.event("ticket.assigned", {"ticket_id": ticket, "group_id": "second-line", "agent_id": "vic"}, actor="lead")
    desk.event(*sla("sla.breached", ticket), actor="system:sla")
    assert desk.routing.ticket(TENANT, ticket).group_id == "second-line"


def test_a_reopened_ticket_goes_back_to_its_agent(desk: Desk) -> None:
    ticket = desk.open(category="billing")
    agent = desk.agent_of(ticket)
    desk.status(ticket, "resolved", "resolved")
    assert agent is not None
    assert desk.load(agent) == 0
    desk.status(ticket, "open", "reopened")
    assert desk.agent_of(ticket) == agent
    assert desk.decisions(ticket)[-1].reason.endswith("had the ticket before")


def test_a_redelivered_event_changes_nothing(desk: Desk) -> None:
    ticket = desk.open()
    assert desk.last_tracking is not None
    envelope = Envelope(
        id=uuid.uuid4(), type="ticket.status_changed", version=1, source="intake", subject=ticket, tenant=TENANT,
        actor="a", occurred_at=datetime.now(UTC), sequence=2, position=99, correlation_id="c", causation_id="c",
        data={"ticket_id": ticket, "status": "resolved", "change": "resolved"},
    )  # fmt: skip
    desk.apply(envelope, parse_data(envelope), Tracking("intake", 99))
    with pytest.raises(IntegrityError):
        desk.apply(envelope, parse_data(envelope), Tracking("intake", 99))
    assert len([d for d in desk.decisions() if d.ticket_id == ticket]) == 1


def test_the_rules_in_force_at_a_past_instant_are_known(desk: Desk) -> None:
    before = datetime.now(UTC)
    desk.routing.retire_rule(TENANT, "outage")
    desk.routing.reorder_rules(TENANT, ["billing", "billing-ru"])
    assert [r.rule_id for r in desk.routing.setup(TENANT, as_of=before).rules_in_order()] == [
        "outage", "billing-ru", "billing"]  # fmt: skip
    assert [r.rule_id for r in desk.routing.setup(TENANT).rules_in_order()] == ["billing", "billing-ru"]


def test_a_tenant_without_routing_gets_no_decisions() -> None:
    desk = Desk()
    desk.open()
    assert desk.decisions() == []


def test_bad_setup_is_refused_naming_the_field(desk: Desk) -> None:
    with pytest.raises(RoutingError, match="higher tier") as refused:
        desk.routing.define_group(TENANT, "second-line", 2, Strategy.LEAST_LOADED, escalates_to="first-line")
    assert refused.value.field == "escalates_to"
    with pytest.raises(RoutingError, match="no group 'nowhere'"):
        desk.routing.add_rule(TENANT, {"rule_id": "x", "group_id": "nowhere"})
    with pytest.raises(RoutingError, match="every rule exactly once"):
        desk.routing.reorder_rules(TENANT, ["billing"])
