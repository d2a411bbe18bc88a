"""Routing's what-if on real PostgreSQL and Kafka: a month of tickets published as intake publishes them
(instants over the past 30 days), decided by the live routing service while an agent goes offline and
back; then the replay under the current rules makes every decision the desk made, a candidate that
sends billing to the network group moves exactly the billing tickets, and the live desk records
nothing meanwhile."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from schemas.envelope import Envelope
from schemas.topics import ROUTING_DECISIONS, TICKETS
from services.chassis.storage.store import store_env
from services.chassis.whatif.history import tenant_history
from services.chassis.whatif.replay import WhatIfRequest
from services.routing.application import Routing
from services.routing.what_if import desk_replay
from tests.client import eventually, headers, put_ok, what_if_job
from tests.harness import Desk
from tests.routing_month import month_events, month_of_tickets

TENANT = "acme"
TICKETS_IN_MONTH = 60
ROOT = Path(__file__).resolve().parents[2]
RULES = [
    {"rule_id": "billing", "group_id": "billing", "categories": ["billing"]},
    {"rule_id": "network", "group_id": "network", "categories": ["network"]},
]
MOVED = {"rules": [{"rule_id": "billing", "group_id": "network", "categories": ["billing"]}, RULES[1]]}


def set_up(client: httpx.Client) -> None:
    put_ok(client, TENANT, "/v1/routing/groups/first-line", {"tier": 1, "default": True})
    put_ok(client, TENANT, "/v1/routing/groups/billing", {"tier": 1, "strategy": "round_robin"})
    put_ok(client, TENANT, "/v1/routing/groups/network", {"tier": 2})
    for rule in RULES:
        assert client.post("/v1/routing/rules", json=rule, headers=headers(TENANT)).status_code == 201
    agents = {"ann": "billing", "boris": "billing", "sam": "first-line", "sue": "first-line", "vic": "network"}
    for agent, group in agents.items():
        put_ok(
            client, TENANT, f"/v1/routing/agents/{agent}", {"groups": [group], "capacity": 50 if agent == "vic" else 2}
        )
        presence(client, agent, "online")


def presence(client: httpx.Client, agent: str, state: str) -> None:
    put_ok(client, TENANT, f"/v1/routing/agents/{agent}/presence", {"presence": state})


class Intake:
    """Publishes ticket events on the desk's tickets topic as intake's relay does (keyed by ticket)."""

    def __init__(self, desk: Desk) -> None:
        self.loop = asyncio.new_event_loop()
        self.topic = desk.settings.kafka_name(TICKETS)
        bootstrap = desk.settings.kafka_bootstrap_servers

        async def start() -> AIOKafkaProducer:
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
            await producer.start()
            return producer

        self.producer = self.loop.run_until_complete(start())

    def publish(self, envelope: Envelope) -> None:
        key, value, fields = envelope.to_kafka()
        self.loop.run_until_complete(self.producer.send_and_wait(self.topic, value=value, key=key, headers=fields))

    def close(self) -> None:
        self.loop.run_until_complete(self.producer.stop())
        self.loop.close()


@pytest.fixture
def month(desk: Desk) -> Iterator[tuple[Desk, Routing, list[Envelope]]]:
    """The live desk after its month; routing's store, read beside the service."""
    routing = desk.service("routing").start()
    store = Routing(env=store_env(desk.settings, Routing.name))
    intake = Intake(desk)
    events = list(month_events(TENANT, month_of_tickets(TICKETS_IN_MONTH)))
    try:
        with httpx.Client(base_url=routing.url, timeout=10.0) as client:
            set_up(client)
            for n, envelope in enumerate(events, start=1):
                if n == len(events) // 3:
                    presence(client, "sam", "offline")
                if n == 2 * len(events) // 3:
                    presence(client, "sam", "online")
                intake.publish(envelope)
                decided(store, envelope)  # one at a time: the live order is the order of the instants
        yield desk, store, events
    finally:
        intake.close()


def decided(store: Routing, envelope: Envelope) -> None:
    ticket_id = envelope.subject
    if envelope.type == "ticket.opened":
        eventually(lambda: store.ticket(TENANT, ticket_id), lambda r: r.decisions > 0, timeout=60, every=0.05)
    else:
        eventually(lambda: store.ticket(TENANT, ticket_id), lambda r: r.done, timeout=60, every=0.05)


def decisions_published(desk: Desk, store: Routing) -> int:
    """Wait for routing's relay to have published every decision it recorded; how many."""
    recorded = sum(
        len([e for e in store.decisions(TENANT, t) if type(e).__name__ == "Decided"]) for t in _tickets(store)
    )
    topic = desk.settings.kafka_name(ROUTING_DECISIONS)
    bootstrap = desk.settings.kafka_bootstrap_servers
    since = month_of_tickets(1)[0].opened_at.replace(year=2000)
    eventually(lambda: len(tenant_history(bootstrap, [topic], TENANT, since)), lambda n: n == recorded, timeout=60)
    return recorded


def _tickets(store: Routing) -> list[str]:
    start, found = 1, []
    while notifications := store.recorder.select_notifications(start, 1000):
        start = notifications[-1].id + 1
        found += [str(n.originator_id) for n in notifications if n.topic.endswith("TicketRouting.Started")]
    return found


def test_a_month_replayed_under_the_current_rules_makes_every_assignment_the_desk_made(
    month: tuple[Desk, Routing, list[Envelope]],
) -> None:
    desk, store, _ = month
    recorded = decisions_published(desk, store)
    before = store.recorder.max_notification_id()

    report = desk_replay(desk.settings)(WhatIfRequest(TENANT, 30, {"rules": RULES}), lambda done, total: None)

    assert report["reproduces_history"] == {"checked": TICKETS_IN_MONTH, "differed": 0, "examples": []}
    assert sum(g["before"] for g in report["assignments"]["per_group"].values()) <= recorded
    assert report["unassigned"]["before"]["ever_queued"] > 0, "the month had tickets wait while sam was away"
    assert report["differed"]["tickets"] == 0
    assert store.recorder.max_notification_id() == before, "the live desk recorded nothing during the what-if"
    assert decisions_published(desk, store) == recorded


def test_a_candidate_sending_billing_to_the_network_group_moves_exactly_the_billing_tickets(
    month: tuple[Desk, Routing, list[Envelope]], tmp_path: Path
) -> None:
    desk, store, events = month
    decisions_published(desk, store)
    before = store.recorder.max_notification_id()
    candidate = tmp_path / "candidate.json"
    candidate.write_text(json.dumps(MOVED))

    run = subprocess.run(
        [sys.executable, "-m", "services.routing", "what-if", "--tenant", TENANT, "--days", "30",
         "--candidate", str(candidate)],
        cwd=ROOT, env=os.environ | desk.env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert run.returncode == 0, run.stderr
    report: dict[str, Any] = json.loads(run.stdout)
    assert "routing what-if" in run.stderr, "a progress bar on stderr"
    billing = {e.subject for e in events if e.type == "ticket.opened" and e.data["category"] == "billing"}
    moved = report["differed"]
    assert moved["tickets"] == len(billing)
    assert {example["ticket_id"] for example in moved["examples"]} <= billing
    example = moved["examples"][0]
    assert example["number"].startswith("SD-")
    assert (example["before"]["group_id"], example["after"]["group_id"], example["after"]["agent_id"]) == (
        "billing",
        "network",
        "vic",
    )
    assert "rule 'billing' matched" in example["after"]["reason"]
    assert report["assignments"]["per_group"]["billing"]["after"] == 0
    assert report["reproduces_history"]["differed"] == 0
    assert store.recorder.max_notification_id() == before, "the live desk recorded nothing during the what-if"


def test_an_admin_asks_the_gateway_what_a_rule_set_would_have_done_and_reads_the_job(
    month: tuple[Desk, Routing, list[Envelope]],
) -> None:
    desk, store, events = month
    decisions_published(desk, store)
    before = store.recorder.max_notification_id()
    admin = headers(TENANT, "admin-1", ("admin",))
    gateway = desk.service("intake", "api").start()  # behind it, the routing service the month ran on
    with httpx.Client(base_url=gateway.url, timeout=10.0) as client:
        job = what_if_job(client, admin, {"kind": "routing", "days": 30, "candidate": MOVED})
        wrong = client.post("/v1/what-if", json={"kind": "routing", "days": 30, "candidate": {"rules": [{}]}},
                            headers=admin)  # fmt: skip

    billing = {e.subject for e in events if e.type == "ticket.opened" and e.data["category"] == "billing"}
    assert job["report"]["differed"]["tickets"] == len(billing)
    assert job["report"]["reproduces_history"]["differed"] == 0
    assert wrong.status_code == 422, wrong.text
    assert "candidate.rules.0.group_id" in wrong.json()["detail"], wrong.json()
    assert store.recorder.max_notification_id() == before, "the live desk recorded nothing during the what-if"
