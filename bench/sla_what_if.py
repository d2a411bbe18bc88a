"""SLA's what-if over a 30-day window of 100,000 tickets: seconds for the replay (services/sla/what_if).

The window's history is generated in process (tests/sla_history.py: tickets opened over the month, answered
in time or late, some customers writing again, some raised to P1, half resolved, a tenth never answered)
and replayed as a what-if does: under the setup as it was and under a candidate with a 1 hour first
response, compared, and checked against the record (none here: every warning and breach is "replayed
only"). Reading the window from Kafka is the same for every kind of what-if (bench/what_if.py, routing's,
measures it apart); this figure excludes it.

    python -m bench.sla_what_if [--tickets 100000]

Each run is added to bench/results/sla_what_if.json beside the earlier ones.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.results import record
from schemas.registry import typed
from services.chassis.whatif.history import in_order
from services.sla.api import PolicySpec
from services.sla.application import Sla
from services.sla.what_if import replayed
from services.sla.what_if.candidate import Candidate
from services.sla.what_if.setups import SetupHistory
from tests.sla_history import BERLIN_HOURS, URGENT, Month, standard

NAME = "sla_what_if"
TENANT = "acme"
TICKETS_IN_WINDOW = 100_000
CANDIDATE = {"policies": [{"policy_id": "standard"} | standard("PT1H")]}


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sla_what_if", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--tickets", type=int, default=TICKETS_IN_WINDOW, help="tickets opened in the 30 days")
    return parser.parse_args(list(argv))


def setups() -> SetupHistory:
    """The tenant's SLA setup, in SLA's in-memory store: Berlin hours, an urgent and a standard policy."""
    sla = Sla(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    sla.define_calendar(TENANT, "berlin", BERLIN_HOURS)
    for policy_id, spec in (("urgent", URGENT), ("standard", standard())):
        sla.define_policy(TENANT, PolicySpec.model_validate(spec).as_policy(policy_id))
    return SetupHistory.of(sla, TENANT)


def measure(tickets: int) -> dict[str, Any]:
    until = datetime.now(UTC)
    started = time.perf_counter()
    month = Month.of(TENANT, tickets, until - timedelta(days=30), days=30)
    history = sorted((typed(e.model_dump(mode="json")) for e in month.envelopes), key=in_order)
    generated = time.perf_counter() - started
    current = setups()
    candidate = Candidate.model_validate(CANDIDATE)
    started = time.perf_counter()
    changed = current.changed(lambda setup: candidate.applied(setup, TENANT, current.newest()))
    report = replayed(history, current, changed, until, lambda done, total: None)
    seconds = time.perf_counter() - started
    return {
        "tickets": tickets,
        "events": len(history),
        "replays": 2,
        "generate_s": round(generated, 2),
        "replay_s": round(seconds, 2),
        "replayed_events_per_s": round(2 * len(history) / seconds),
        "breaches_current": report["breaches"]["current"],
        "breaches_added": report["breaches"]["added"],
        "warnings_added": report["warnings"]["added"],
    }


def run(argv: Sequence[str] = ()) -> None:
    figures = measure(arguments(argv).tickets)
    print(f"replayed {figures['events']} events twice in {figures['replay_s']} s", flush=True)
    record(NAME, figures)


if __name__ == "__main__":
    import sys

    run(sys.argv[1:])
