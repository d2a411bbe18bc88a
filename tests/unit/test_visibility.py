"""One rule for which tickets staff see, in intake and in routing: their groups', their own, the unrouted."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from schemas.visibility import sees_ticket
from services.chassis.http.auth import Principal, Role
from services.chassis.http.problems import install_problem_handlers
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.routing import api
from services.routing.choosing import Presence, Strategy
from services.routing.projections import LoadProjection
from services.sla import api as sla_api
from tests.client import headers
from tests.tokens import authenticated, token
from tests.unit.test_routing_desk import Desk
from tests.unit.test_sla_clocks import MONDAY_9
from tests.unit.test_sla_clocks import Desk as SlaDesk


def staff(*roles: Role, groups: frozenset[str] = frozenset()) -> Principal:
    return Principal("acme", "ann", frozenset(roles), groups)


def test_an_agent_sees_their_groups_their_own_and_the_unrouted_tickets_only() -> None:
    agent = staff(Role.AGENT, groups=frozenset({"billing"}))
    assert sees_ticket(agent, "billing", None)
    assert sees_ticket(agent, "network", "ann")
    assert sees_ticket(agent, None, None)
    assert not sees_ticket(agent, "network", "bob")
    assert sees_ticket(staff(Role.ADMIN), "network", "bob")
    assert not sees_ticket(staff(Role.CUSTOMER), None, None)


def test_routing_shows_an_agent_only_the_decisions_about_tickets_they_may_see(tmp_path: Path) -> None:
    desk = Desk()
    desk.routing.define_group("acme", "network", 1, Strategy.LEAST_LOADED, default=True)
    desk.routing.register_agent("acme", "bob", ["network"], [], 1, 5)
    desk.routing.set_presence("acme", "bob", Presence.ONLINE)
    ticket_id = desk.open()
    assert desk.agent_of(ticket_id) == "bob"
    app = FastAPI()
    install_problem_handlers(app)
    api.create_app(app, desk.routing, LoadProjection(tracking_recorder(Settings(data_dir=tmp_path), "routing")))
    client = TestClient(authenticated(app))
    path = f"/v1/routing/tickets/{ticket_id}"
    assert client.get(path, headers=headers("acme", "bob", ("agent",))).status_code == 200
    outsider = client.get(path, headers=headers("acme", "ann", ("agent",)))
    assert outsider.status_code == 404, "another group's ticket is not there for her"
    escalated = client.post(f"{path}/escalations", json={"reason": "x"}, headers=headers("acme", "ann", ("agent",)))
    assert escalated.status_code == 404
    assert client.get(path, headers=headers("acme")).status_code == 200


def test_an_agent_who_escalates_a_ticket_out_of_their_group_is_told_where_it_went(tmp_path: Path) -> None:
    desk = Desk()
    desk.routing.define_group("acme", "second-line", 2, Strategy.LEAST_LOADED)
    desk.routing.define_group("acme", "network", 1, Strategy.LEAST_LOADED, "second-line", default=True)
    ticket_id = desk.open()
    app = FastAPI()
    install_problem_handlers(app)
    api.create_app(app, desk.routing, LoadProjection(tracking_recorder(Settings(data_dir=tmp_path), "routing")))
    client = TestClient(authenticated(app))
    ann = {"Authorization": f"Bearer {token('acme', 'ann', roles=('agent',), groups=('network',))}"}
    path = f"/v1/routing/tickets/{ticket_id}"
    escalated = client.post(f"{path}/escalations", json={"reason": "needs the second line"}, headers=ann)
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["group_id"] == "second-line"
    assert client.get(path, headers=ann).status_code == 404, "it has left her group"


def test_sla_shows_an_agent_only_the_clocks_of_tickets_they_may_see() -> None:
    desk = SlaDesk()
    desk.sla.define_policy("acme", {"policy_id": "p", "match": {}, "calendar": "24x7", "targets": {"resolution": 3600}})
    desk.open(MONDAY_9)
    app = FastAPI()
    install_problem_handlers(app)
    sla_api.create_app(app, desk.sla)
    client = TestClient(authenticated(app))
    path = f"/v1/sla/tickets/{desk.ticket}"
    ann = {"Authorization": f"Bearer {token('acme', 'ann', roles=('agent',), groups=('billing',))}"}
    bob = headers("acme", "bob", ("agent",))
    assert client.get(path, headers=bob).status_code == 200, "an unrouted ticket is everyone's inbox"
    desk.event("ticket.assigned", MONDAY_9, group_id="billing", agent_id=None)
    assert client.get(path, headers=ann).status_code == 200
    assert client.get(path, headers=bob).status_code == 404
    desk.event("ticket.assigned", MONDAY_9, group_id="network", agent_id="bob")
    assert (client.get(path, headers=ann).status_code, client.get(path, headers=bob).status_code) == (404, 200)
    assert client.get(path, headers=headers("acme")).status_code == 200
