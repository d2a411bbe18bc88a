"""Trigger evaluation: ticket events per second a tenant with 200 triggers gets through, on the rules service's own
code (`Rules.react`: the ticket's facts folded, every live trigger that answers the event checked in order, the
firings recorded, the timed triggers' timers moved), in process.

Two figures: the conditions alone (the loop `Rules._fire` runs over 200 triggers, no aggregate, no store); and
the whole reaction on PostgreSQL, one transaction per event as the consumer records it, with the CPU this process
spends per event (the consumer's own cost, less Kafka's client: the broker and PostgreSQL run elsewhere). Not
on eventsourcing's in-memory store: it cannot tell the newest versions in one read, so every trigger would be
deep-copied out of the cache on every event, a path the service on PostgreSQL never takes.

The 200 triggers are a mix a busy tenant has: most answer one or two kinds of event and check one to four
conditions (priority, channel, category, tags, organisation, a status changed to); one in ten is timed (hours
since a moment), so every change of the facts moves timers. About 47 triggers answer each event and two or three
fire.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking

from bench.results import record
from schemas.envelope import Envelope
from schemas.registry import parse_data
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env
from services.rules import conditions
from services.rules.application import Rules
from services.rules.conditions import Match
from services.rules.requests import TriggerSpec
from tests.infra import postgres

TENANT = "bench-rules"
TRIGGERS = 200
CATEGORIES = ("network", "billing", "hardware", "access", "mail", "general")
ORGANISATIONS = ("northwind", "contoso", "initech", "umbrella", None)
TAGS = ("vpn", "vip", "printer", "invoice", "outage", "password", "laptop")
WHEN = ("ticket.opened", "ticket.commented", "ticket.status_changed", "ticket.priority_changed", "ticket.assigned")


def trigger_specs(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` triggers as an admin would write them (checked by the API's own model)."""
    rng = random.Random(seed)
    specs = []
    for i in range(count):
        timed = i % 10 == 9
        pool = [
            {"field": "priority", "op": "is", "value": rng.choice(("P1", "P2"))},
            {"field": "priority", "op": "greater", "value": "P3"},
            {"field": "channel", "op": "is", "value": rng.choice(("email", "chat", "portal"))},
            {"field": "category", "op": "in", "value": rng.sample(CATEGORIES, 2)},
            {"field": "tags", "op": "contains", "value": rng.choice(TAGS)},
            {"field": "organisation", "op": "is", "value": rng.choice(ORGANISATIONS[:-1])},
            {"field": "status", "op": "changed_to", "value": rng.choice(("open", "pending", "resolved"))},
            {"field": "type", "op": "is", "value": rng.choice(("incident", "request", "question"))},
        ]
        chosen = rng.sample(pool, rng.randint(2, 4))
        if timed:
            chosen = [{"field": "hours_since", "of": "customer_replied", "op": "greater", "value": 4}, *chosen[:1]]
        spec = {
            "name": f"trigger {i}",
            "when": ["time"] if timed else rng.sample(WHEN, rng.choice((1, 1, 2))),
            "match": "any" if rng.random() < 0.05 else "all",
            "if": chosen,
            "then": {"tags_add": [f"t{i}"]} if i % 3 else {"priority": "P2", "note": "Look at {{ ticket.number }}."},
        }
        specs.append(TriggerSpec.model_validate(spec).stored())
    return specs


def ticket_events(tickets: int, seed: int = 11) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Each ticket's life, tickets interleaved: (type, version, data)."""
    rng = random.Random(seed)
    for _ in range(tickets):
        ticket_id, requester = str(uuid.uuid4()), f"customer-{rng.randint(1, 500)}"
        yield "ticket.opened", 3, {
            "ticket_id": ticket_id, "number": "SD-1", "requester_id": requester,
            "channel": rng.choice(("email", "chat", "portal", "api")), "tags": rng.sample(TAGS, rng.randint(0, 2)),
            "category": rng.choice(CATEGORIES), "type": rng.choice(("incident", "request", "question")),
            "priority": rng.choice(("P1", "P2", "P3", "P3", "P4")), "organisation": rng.choice(ORGANISATIONS),
            "keyword_digests": [],
        }  # fmt: skip
        yield "ticket.assigned", 1, {"ticket_id": ticket_id, "group_id": "first-line", "agent_id": "agent-ann"}
        yield "ticket.status_changed", 1, {"ticket_id": ticket_id, "status": "open", "change": "opened"}
        for public, author, kind in ((True, requester, "requester"), (True, "agent-ann", "staff")):
            yield "ticket.commented", 2, {
                "ticket_id": ticket_id, "comment_id": str(uuid.uuid4()), "public": public, "author_id": author,
                "channel": "email", "author_kind": kind,
            }  # fmt: skip
        yield "ticket.priority_changed", 1, {"ticket_id": ticket_id, "priority": "P1", "previous": "P3"}
        yield "ticket.status_changed", 1, {"ticket_id": ticket_id, "status": "resolved", "change": "resolved"}


def envelopes(tickets: int) -> list[tuple[Envelope, Any, Tracking]]:
    found = []
    positions = itertools.count(1)
    for type_, version, data in ticket_events(tickets):
        position = next(positions)
        envelope = Envelope(
            id=uuid.uuid4(), type=type_, version=version, source="intake", subject=data["ticket_id"], tenant=TENANT,
            actor="agent-ann", occurred_at=datetime.now(UTC), sequence=1, position=position,
            correlation_id=str(uuid.uuid4()), causation_id=str(uuid.uuid4()), data=data,
        )  # fmt: skip
        found.append((envelope, parse_data(envelope), Tracking("intake", position)))
    return found


def conditions_alone(specs: list[dict[str, Any]], events: int) -> dict[str, Any]:
    """The conditions of every trigger answering the event, checked and evaluated as `Rules._fire` does."""
    rng = random.Random(3)
    facts = [
        {"status": "open", "priority": rng.choice(("P1", "P2", "P3")), "channel": "email", "category": "network",
         "type": "incident", "tags": ["vpn"], "organisation": "northwind", "group": "first-line", "assignee": None}
        for _ in range(64)
    ]  # fmt: skip
    started, cpu = time.perf_counter(), time.process_time()
    checked = fired = 0
    for n in range(events):
        now, when = facts[n % 64], WHEN[n % len(WHEN)]
        for spec in specs:
            if when not in spec["when"]:
                continue
            checked += 1
            fired += conditions.evaluate(Match(spec["match"]), conditions.check(spec["if"]), now, now, 0.0) is not None
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"events": events, "events_per_s": round(events / elapsed),
            "cpu_us_per_event": round(cpu / events * 1e6, 1), "triggers_checked_per_event": round(checked / events, 1),
            "fired_per_event": round(fired / events, 2)}  # fmt: skip


def reactions(rules: Rules, specs: list[dict[str, Any]], tickets: int) -> dict[str, Any]:
    """The whole reaction of the service to each event, one transaction each."""
    for spec in specs:
        rules.create_trigger(TENANT, spec, "admin-1")
    stream = envelopes(tickets)
    started, cpu = time.perf_counter(), time.process_time()
    for envelope, data, tracking in stream:
        rules.react(envelope, data, tracking)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    notifications = rules.recorder.select_notifications(1, 10_000_000)
    firings = sum(n.topic.endswith("TicketAutomation.Fired") for n in notifications)
    return {"events": len(stream), "tickets": tickets, "events_per_s": round(len(stream) / elapsed),
            "cpu_us_per_event": round(cpu / len(stream) * 1e6), "firings": firings}  # fmt: skip


def on_postgres(specs: list[dict[str, Any]], tickets: int) -> dict[str, Any]:
    pg = postgres()
    with pg.fresh_database() as dbname:
        settings = Settings.model_validate({
            "persistence": "postgres", "postgres_host": pg.host, "postgres_port": pg.port, "postgres_user": pg.user,
            "postgres_password": pg.password, "postgres_dbname": dbname,
        })  # fmt: skip
        rules = Rules(env=store_env(settings, Rules.name))
        try:
            return reactions(rules, specs, tickets)
        finally:
            rules.close()


def run(tickets: int = 300, pg_tickets: int = 100) -> None:
    specs = trigger_specs(TRIGGERS)
    figures: dict[str, Any] = {"triggers": TRIGGERS, "timed_triggers": sum("time" in s["when"] for s in specs)}
    figures["conditions_alone"] = conditions_alone(specs, tickets * 7)
    print(f"conditions alone: {figures['conditions_alone']}", flush=True)
    figures["postgres"] = on_postgres(specs, pg_tickets)
    print(f"whole reaction, PostgreSQL: {figures['postgres']}", flush=True)
    figures["load_average"] = [round(load, 1) for load in os.getloadavg()]  # a shared machine: the figures vary
    record("trigger_evaluation", figures, show=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.trigger_evaluation", description=__doc__)
    parser.add_argument("--tickets", type=int, default=300, help="tickets (7 events each) for the conditions alone")
    parser.add_argument("--pg-tickets", type=int, default=100, help="tickets (7 events each) on PostgreSQL")
    options = parser.parse_args()
    run(options.tickets, options.pg_tickets)
