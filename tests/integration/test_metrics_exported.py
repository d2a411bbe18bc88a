"""Every series the dashboards and alert rules query is really exported: the four services
run on real Kafka and PostgreSQL, a ticket goes through routing and its SLA clock
breaches, and the union of their live `/metrics` scrapes must name every metric that
a dashboard panel or an alert rule uses."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.client import eventually, headers, open_ticket, put_ok, read_ticket
from tests.harness import Desk, Service
from tests.monitoring import metric_names_in_dashboards_and_rules

TENANT = "acme"
_TYPE = re.compile(r"^# TYPE (\S+) (\S+)", re.MULTILINE)


def exported_names(services: list[Service]) -> set[str]:
    """Metric names as PromQL sees them: counters with `_total`, histograms with their series."""
    names = {"up"}  # Prometheus adds it per target
    for service in services:
        for name, kind in _TYPE.findall(httpx.get(f"{service.url}/metrics").text):
            if kind == "counter":
                names |= {name, f"{name}_total"}
            elif kind == "histogram":
                names |= {name, f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            else:
                names.add(name)
    return names


@pytest.fixture
def desk_running(desk: Desk) -> list[Service]:
    return [desk.service(name).start() for name in ("analytics", "routing", "rules", "sla", "intake")]


def test_every_dashboard_and_alert_series_is_exported(desk_running: list[Service]) -> None:
    gateway = httpx.Client(base_url=desk_running[-1].url, timeout=10.0)
    put_ok(gateway, TENANT, "/v1/routing/groups/first-line", {"tier": 1})
    put_ok(gateway, TENANT, "/v1/routing/agents/sam", {"groups": ["first-line"], "capacity": 5})
    put_ok(gateway, TENANT, "/v1/routing/agents/sam/presence", {"presence": "online"})
    put_ok(gateway, TENANT, "/v1/sla/policies/fast", {"targets": {"first_response": "PT1S", "resolution": "PT2S"}})
    trigger = {"name": "Seen", "when": ["ticket.opened"], "then": {"tags_add": ["seen"]}}
    assert gateway.post("/v1/triggers", json=trigger, headers=headers(TENANT)).status_code == 201
    ticket_id = open_ticket(gateway, TENANT)
    breached = eventually(lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: "resolution" in t["sla"])
    assert breached["sla"]["resolution"]["target_seconds"] == 2
    eventually(lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: t["sla"]["resolution"]["breached"])
    reply = gateway.post(f"/v1/tickets/{ticket_id}/resolve", headers=headers(TENANT),
                         json={"resolution": "done", "reason": "done"})  # fmt: skip
    assert reply.status_code == 200, reply.text

    wanted = metric_names_in_dashboards_and_rules()
    missing = eventually(lambda: wanted - exported_names(desk_running), lambda gone: not gone, timeout=30)
    assert not missing
    assert len(wanted) >= 15, f"the dashboards query only {sorted(wanted)}"
