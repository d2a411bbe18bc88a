"""Routing's what-if over a 30-day window of 100,000 tickets: seconds for the replay (services/routing/what_if.py).

The window's history is generated in process (tests/routing_month.py: each ticket opened, then resolved
some hours later; 3 groups, 20 agents online, rules by category) and replayed twice, as a what-if does:
under the current rules and under a candidate that sends billing to the network group. The replay's
figure excludes reading Kafka; `--kafka-tickets N` measures that apart: N tickets' events published on a
topic of the shared broker (a namespace of the bench's own, deleted after) and read back as a what-if
reads its window (services/chassis/whatif/history.py), with the rate extrapolated to the whole window.

    python -m bench.what_if [--tickets 100000 --held 400 --kafka-tickets 20000]

Each run is added to bench/results/what_if.json beside the earlier ones.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.results import record
from schemas.keywords import KeywordDigests
from schemas.registry import typed
from schemas.topics import TICKETS
from services.chassis.messaging.kafka import ensure_topics
from services.chassis.whatif.history import tenant_history
from services.routing.application import Routing
from services.routing.choosing import Presence, Strategy
from services.routing.what_if import SANDBOX, RoutingCandidate, StoreWindow, replay_window
from tests.harness import forget_topics
from tests.infra import kafka
from tests.routing_month import month_events, month_of_tickets
from tests.sla_history import publish

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


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.what_if", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
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


def measure_replay(tickets: int, held: float) -> dict[str, Any]:
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
    seconds = time.perf_counter() - started
    return {
        "tickets": tickets,
        "events": len(history),
        "replays": 2,
        "generate_s": round(generated, 2),
        "replay_s": round(seconds, 2),
        "replayed_events_per_s": round(2 * len(history) / seconds),
        "tickets_moved": report["differed"]["tickets"],
        "ever_queued": report["unassigned"]["before"]["ever_queued"],
    }


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
    figures = measure_replay(args.tickets, args.held)
    print(f"replayed {figures['events']} events twice in {figures['replay_s']} s", flush=True)
    if args.kafka_tickets:
        try:
            figures |= measure_kafka(args.kafka_tickets, figures["events"])
        finally:
            record(NAME, figures)
    else:
        record(NAME, figures)


if __name__ == "__main__":
    import sys

    run(sys.argv[1:])
