"""Every change an admin makes to the routing rules, the SLA calendars and the SLA policies is recorded
with the admin as its actor, newest first in the setup's history; a change stored before the actor
joined these events (their version 1) still loads, as by nobody."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from services.routing.application import Routing
from services.routing.choosing import Strategy
from services.routing.domain import Agent, DeskSetup
from services.sla.application import Sla
from services.sla.policies import SlaSetup

BERLIN = {"time_zone": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]]}}


def changes(found: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [(c["change"], c["by"], c["id"]) for c in found]


def test_each_change_to_the_routing_rules_names_the_admin_who_made_it() -> None:
    routing = Routing()
    routing.define_group("acme", "first-line", 1, Strategy.LEAST_LOADED)
    routing.add_rule("acme", {"rule_id": "vpn", "group_id": "first-line", "words": ["vpn"]}, by="ada")
    routing.add_rule("acme", {"rule_id": "mail", "group_id": "first-line", "words": ["mail"]}, by="ada")
    routing.change_rule("acme", {"rule_id": "vpn", "group_id": "first-line", "words": ["vpn", "tunnel"]}, by="boris")
    routing.reorder_rules("acme", ["mail", "vpn"], by="boris")
    routing.retire_rule("acme", "mail", by="ada")
    assert changes(routing.rule_changes("acme", 10)) == [
        ("rule_retired", "ada", "mail"),
        ("rules_reordered", "boris", None),
        ("rule_changed", "boris", "vpn"),
        ("rule_added", "ada", "mail"),
        ("rule_added", "ada", "vpn"),
    ]
    assert changes(routing.rule_changes("acme", 1)) == [("rule_retired", "ada", "mail")]


def test_each_change_to_the_sla_calendars_and_policies_names_the_admin_who_made_it() -> None:
    sla = Sla()
    sla.define_calendar("acme", "berlin", BERLIN, by="ada")
    policy = {"policy_id": "p1", "match": {"priorities": ["P1"]}, "calendar": "berlin", "targets": {"resolution": 60}}
    sla.define_policy("acme", policy, by="ada")
    sla.define_policy("acme", policy | {"policy_id": "rest", "match": {}}, by="boris")
    sla.reorder_policies("acme", ["rest", "p1"], by="boris")
    sla.retire_policy("acme", "p1", by="ada")
    policies = (SlaSetup.PolicyDefined, SlaSetup.PolicyRetired, SlaSetup.PoliciesReordered)
    assert changes(sla.setup_changes("acme", policies, 10)) == [
        ("policy_retired", "ada", "p1"),
        ("policies_reordered", "boris", None),
        ("policy_defined", "boris", "rest"),
        ("policy_defined", "ada", "p1"),
    ]
    assert changes(sla.setup_changes("acme", (SlaSetup.CalendarDefined,), 10)) == [
        ("calendar_defined", "ada", "berlin")
    ]


def stored_before_actors(app: Application[UUID], aggregate_id: UUID) -> list[Any]:
    """The aggregate's events read back as if stored by version 1: no `by`, no class version."""
    read = []
    for stored in app.recorder.select_events(aggregate_id):
        state = json.loads(stored.state)
        state.pop("by", None)
        state.pop("class_version", None)
        old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
        read.append(app.mapper.to_domain_event(old))
    return read


def test_rules_stored_before_their_admin_was_recorded_still_load_as_by_nobody() -> None:
    routing = Routing()
    routing.define_group("acme", "first-line", 1, Strategy.LEAST_LOADED)
    routing.add_rule("acme", {"rule_id": "vpn", "group_id": "first-line", "words": ["vpn"]}, by="ada")
    events = stored_before_actors(routing, DeskSetup.create_id("acme"))
    setup = None
    for event in events:
        setup = event.mutate(setup)
    assert isinstance(setup, DeskSetup)
    assert [r["rule_id"] for r in setup.rules] == ["vpn"]
    assert events[-1].by == ""


def test_calendars_and_policies_stored_before_their_admin_was_recorded_still_load_as_by_nobody() -> None:
    sla = Sla()
    sla.define_calendar("acme", "berlin", BERLIN, by="ada")
    sla.define_policy("acme", {"policy_id": "p", "match": {}, "calendar": "berlin", "targets": {"resolution": 60}})
    events = stored_before_actors(sla, SlaSetup.create_id("acme"))
    setup = None
    for event in events:
        setup = event.mutate(setup)
    assert isinstance(setup, SlaSetup)
    assert list(setup.calendars) == ["berlin"]
    assert [p["policy_id"] for p in setup.policies] == ["p"]
    assert [e.by for e in events[1:]] == ["", ""]


def test_groups_the_default_group_memberships_and_agents_name_the_admin_who_changed_them() -> None:
    routing = Routing()
    routing.define_group("acme", "first-line", 1, Strategy.LEAST_LOADED, by="ada")
    routing.define_group("acme", "billing", 1, Strategy.SKILLS_MATCH, default=True, by="boris")
    routing.register_agent("acme", "kim", ["billing"], ["invoices"], 1, 3, cause={"actor": "ada"})
    routing.register_agent("acme", "kim", ["billing"], ["invoices"], 1, 5, cause={"actor": "boris"})
    setup = routing.events.get(DeskSetup.create_id("acme"))
    assert [(type(e).__name__, getattr(e, "by", None)) for e in list(setup)[1:]] == [
        ("GroupDefined", "ada"),
        ("GroupDefined", "boris"),
        ("DefaultGroupChanged", "boris"),
        ("MembershipSet", "ada"),
    ]
    agent = routing.events.get(Agent.create_id("acme", "kim"))
    assert [(type(e).__name__, getattr(e, "by", None)) for e in list(agent)[1:]] == [("Updated", "boris")]
    assert [c["change"] for c in routing.rule_changes("acme", 10)] == [], "the rules' history lists rule changes only"


def test_groups_and_agents_stored_before_their_admin_was_recorded_still_load_as_by_nobody() -> None:
    routing = Routing()
    routing.define_group("acme", "first-line", 1, Strategy.LEAST_LOADED, by="ada")
    routing.register_agent("acme", "kim", ["first-line"], [], 1, 3, cause={"actor": "ada"})
    routing.register_agent("acme", "kim", ["first-line"], [], 1, 4, cause={"actor": "ada"})
    setup = None
    for event in stored_before_actors(routing, DeskSetup.create_id("acme")):
        setup = event.mutate(setup)
    assert isinstance(setup, DeskSetup)
    assert setup.members == {"first-line": ["kim"]}
    agent = None
    for event in stored_before_actors(routing, Agent.create_id("acme", "kim")):
        agent = event.mutate(agent)
    assert isinstance(agent, Agent)
    assert agent.capacity == 4
