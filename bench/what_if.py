"""The what-ifs over a 30-day window of 100,000 tickets: seconds for each kind's replay.

Each window's history is generated in process and replayed twice, as a what-if does, under the current
rules and under a candidate:
- routing (services/routing/what_if.py; tests/routing_month.py: each ticket opened, then resolved some
  hours later; 3 groups, 20 agents online, rules by category): a candidate sends billing to the network
  group;
- sla (services/sla/what_if/; tests/sla_history.py: tickets answered in time or late, some customers
  writing again, some raised to P1, half resolved, a tenth never answered): a 1 hour first response;
- trigger (services/rules/what_if.py; the same SLA month): a book of 20 triggers as bench/trigger_evaluation
  writes them, and a draft added last.
The replays' figures exclude reading Kafka; `--kafka-tickets N` measures that apart: N tickets' events published on a
topic of the shared broker (a namespace of the bench's own, deleted after) and read back as a what-if
reads its window (services/chassis/whatif/history.py), with the rate extrapolated to the whole window.

    python -m bench.what_if [--kinds routing,sla,trigger --tickets 100000 --held 400 --kafka-tickets 20000]

Each run is added to bench/results/what_if.json beside the earlier ones.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.results import record
from bench.trigger_evaluation import trigger_specs
from schemas.keywords import KeywordDigests
from schemas.registry import TypedEnvelope, typed
from schemas.topics import TICKETS
from services.chassis.messaging.kafka import ensure_topics
from services.chassis.whatif.history import in_order, tenant_history
from services.chassis.whatif.replay import SANDBOX
from services.routing.application import Routing
from services.routing.choosing import Presence, Strategy
from services.routing.what_if import RoutingCandidate, StoreWindow, replay_window
from services.rules.requests import TriggerSpec
from services.rules.sandbox import BookEntry
from services.rules.what_if import CANDIDATE_ID
from services.rules.what_if import Replay as TriggerReplay
from services.sla.api import PolicySpec
from services.sla.application import Sla
from services.sla.what_if import replayed as sla_replayed
from services.sla.what_if.candidate import Candidate as SlaCandidate
from services.sla.what_if.setups import SetupHistory
from tests.harness import forget_topics
from tests.infra import kafka
from tests.routing_month import month_events, month_of_tickets
from tests.sla_history import BERLIN_HOURS, URGENT, Month, publish, standard

NAME = "what_if"
TENANT = "acme"
TICKETS_IN_WINDOW = 100_000
HELD = 400.0  # a ticket stays open up to 400 openings' time (about 3 hours at 100,000 a month)
KAFKA_TICKETS = 20_000
PARTITIONS = 6  # the tickets topic's, as the desk creates it (settings.topic_partitions)
GROUPS = {"first-line": Strategy.LEAST_LOADED, "billing": Strategy.ROUND_ROBIN, "network": Strategy.SKILLS_MATCH}
RULES = [
    {"rule_id": "billing", "group_id": "billing", "categories": ["billing"]},
    {"rule_id": "network", "group_id": "network", "categories": ["network"]},
]
CANDIDATE = {"rules": [{"rule_id": "billing", "group_id": "network", "categories": ["billing"]}, RULES[1]]}
SLA_CANDIDATE = {"policies": [{"policy_id": "standard"} | standard("PT1H")]}
TRIGGERS = 20
DRAFT_TRIGGER = {"name": "Urgent call-back", "when": ["ticket.opened"], "then": {"tags_add": ["call-back"]},
                 "if": [{"field": "priority", "op": "is", "value": "P1"}]}  # fmt: skip


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.what_if", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--kinds", default=",".join(KINDS), help="which what-ifs, comma-separated")
    parser.add_argument("--tickets", type=int, default=TICKETS_IN_WINDOW, help="tickets opened in the 30 days")
    parser.add_argument("--held", type=float, default=HELD, help="a ticket stays open up to this many openings")
    parser.add_argument("--kafka-tickets", type=int, default=KAFKA_TICKETS, help="0 skips measuring Kafka reading")
    return parser.parse_args(list(argv))


def desk_at_start() -> StoreWindow:
    """Routing's aggregates as the window starts: the groups, rules and 20 agents online."""
    routing = Routing(env=SANDBOX)
    for group_id, strategy in GROUPS.items():
        routing.define_group(TENANT, group_id, 1, strategy)
    for rule in RULES:
        routing.add_rule(TENANT, rule)
    for n in range(20):
        group = list(GROUPS)[n % len(GROUPS)]
        routing.register_agent(TENANT, f"agent-{n}", [group], [], 1, 5)
        routing.set_presence(TENANT, f"agent-{n}", Presence.ONLINE)
    stored = routing.recorder.select_notifications(1, 10**6)
    return StoreWindow(before=[routing.mapper.to_domain_event(n) for n in stored])


def measure_routing(tickets: int, held: float) -> dict[str, Any]:
    started = time.perf_counter()
    events = list(month_events(TENANT, month_of_tickets(tickets, held=held)))
    history = [typed(e.model_dump()) for e in events]
    generated = time.perf_counter() - started
    store = desk_at_start()
    ticks: list[float] = []
    started = time.perf_counter()
    report = replay_window(
        TENANT, history, store, RoutingCandidate.model_validate(CANDIDATE), KeywordDigests(b"bench"),
        lambda done, total: ticks.append(time.perf_counter()),
    )  # fmt: skip
    figures = timed(tickets, len(history), generated, time.perf_counter() - started)
    return figures | {"tickets_moved": report["differed"]["tickets"],
                      "ever_queued": report["unassigned"]["before"]["ever_queued"]}  # fmt: skip


def measure_sla(tickets: int, held: float) -> dict[str, Any]:
    until, history, generated = sla_month(tickets)
    current = sla_setups()
    candidate = SlaCandidate.model_validate(SLA_CANDIDATE)
    started = time.perf_counter()
    changed = current.changed(lambda setup: candidate.applied(setup, TENANT, current.newest()))
    report = sla_replayed(history, current, changed, until, lambda done, total: None)
    figures = timed(tickets, len(history), generated, time.perf_counter() - started)
    return figures | {"breaches_current": report["breaches"]["current"], "breaches_added": report["breaches"]["added"],
                      "warnings_added": report["warnings"]["added"]}  # fmt: skip


def measure_trigger(tickets: int, held: float) -> dict[str, Any]:
    until, history, generated = sla_month(tickets)
    book = [BookEntry(f"trigger-{n}", spec) for n, spec in enumerate(trigger_specs(TRIGGERS))]
    draft = BookEntry(CANDIDATE_ID, TriggerSpec.model_validate(DRAFT_TRIGGER).stored())
    replay = TriggerReplay(TENANT, book, [*book, draft], CANDIDATE_ID)
    started = time.perf_counter()
    replay.run(history, until, lambda done, total: None)
    report = replay.report(None)
    figures = timed(tickets, len(history), generated, time.perf_counter() - started)
    return figures | {"triggers": TRIGGERS, "tickets_touched": report["touched"]["tickets"]}


def sla_month(tickets: int) -> tuple[datetime, list[TypedEnvelope], float]:
    """The SLA bench's month (its instants up to now), in the order it happened, and seconds to make it."""
    until = datetime.now(UTC)
    started = time.perf_counter()
    month = Month.of(TENANT, tickets, until - timedelta(days=30), days=30)
    history = sorted((typed(e.model_dump(mode="json")) for e in month.envelopes), key=in_order)
    return until, history, time.perf_counter() - started


def sla_setups() -> SetupHistory:
    """The tenant's SLA setup, in SLA's in-memory store: Berlin hours, an urgent and a standard policy."""
    sla = Sla(env=SANDBOX)
    sla.define_calendar(TENANT, "berlin", BERLIN_HOURS)
    for policy_id, spec in (("urgent", URGENT), ("standard", standard())):
        sla.define_policy(TENANT, PolicySpec.model_validate(spec).as_policy(policy_id))
    return SetupHistory.of(sla, TENANT)


def timed(tickets: int, events: int, generated: float, seconds: float) -> dict[str, Any]:
    return {"tickets": tickets, "events": events, "replays": 2, "generate_s": round(generated, 2),
            "replay_s": round(seconds, 2), "replayed_events_per_s": round(2 * events / seconds)}  # fmt: skip


KINDS: dict[str, Callable[[int, float], dict[str, Any]]] = {
    "routing": measure_routing, "sla": measure_sla, "trigger": measure_trigger,
}  # fmt: skip


def measure_kafka(tickets: int, window_events: int) -> dict[str, Any]:
    """Publish `tickets` tickets' events on a topic of the bench's own and read them back as a what-if does."""
    bootstrap = kafka().bootstrap
    namespace = f"bench-what-if-{uuid.uuid4().hex[:8]}."
    topic = f"{namespace}{TICKETS}"
    events = list(month_events(TENANT, month_of_tickets(tickets)))
    try:
        asyncio.run(ensure_topics(bootstrap, [topic], PARTITIONS))
        asyncio.run(publish(bootstrap, topic, events))
        since = datetime.now(UTC) - timedelta(days=31)
        started = time.perf_counter()
        read = tenant_history(bootstrap, [topic], TENANT, since)
        seconds = time.perf_counter() - started
    finally:
        forget_topics(bootstrap, namespace)
    assert len(read) == len(events), f"read {len(read)} of {len(events)}"
    rate = len(read) / seconds
    return {"kafka_events": len(read), "kafka_read_s": round(seconds, 2), "kafka_events_per_s": round(rate),
            "kafka_read_window_s_estimated": round(window_events / rate, 1)}  # fmt: skip


def run(argv: Sequence[str] = ()) -> None:
    args = arguments(argv)
    figures: dict[str, Any] = {}
    for kind in args.kinds.split(","):
        figures[kind] = KINDS[kind](args.tickets, args.held)
        print(f"{kind}: replayed {figures[kind]['events']} events twice in {figures[kind]['replay_s']} s", flush=True)
    events = figures.get("routing", next(iter(figures.values())))["events"]
    if args.kafka_tickets:
        try:
            figures["kafka"] = measure_kafka(args.kafka_tickets, events)
        finally:
            record(NAME, figures)
    else:
        record(NAME, figures)


if __name__ == "__main__":
    import sys

    run(sys.argv[1:])
