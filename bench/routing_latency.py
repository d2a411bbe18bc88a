"""Routing: a ticket opened at the gateway to its assignment recorded, at rising open-loop rates,
with the CPU each process spends per ticket (issue 22's measure; bench/flow.py says how).

The path measured: POST /v1/tickets -> intake's store -> intake's relay -> Kafka -> routing's
consumer (decision + tracking in one transaction) -> routing's relay -> Kafka -> intake's consumer
(assignment + tracking in one transaction). The production shape climbs from 20 to 1,000
tickets/s, the embedded one (`make run`'s) to 300/s; each stops at the first rate that saturates
the flow (the backlog does not drain, or p50 is over a second). The load generator and the bench's
Kafka reader run on the same 2 cores, and are measured too.

    python -m bench.routing_latency [--rates 20,50 --embedded-rates 20 --seconds 5 --drain 10 --through]

Each run is added to bench/results/routing_latency.json beside the earlier ones, and
bench/results/routing_latency.png plots the latest run of each shape.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from bench.assignments import Assignments
from bench.flow import AGENTS, SATURATED_P50_MS, Flow, embedded, idle, measure, production, table
from bench.load import CONNECTIONS
from bench.results import history, record, save_plot
from tests.infra import kafka, postgres

NAME = "routing_latency"
PRODUCTION_RATES = (20, 50, 100, 200, 300, 500, 750, 1000)
EMBEDDED_RATES = (20, 50, 100, 200, 300)
SECONDS = 10.0
DRAIN = 15.0
IDLE = 5.0  # seconds without load, before the first rate: the CPU each process spends per second on its own
# issue 22's goals: (shape, rate, percentile, ms)
GOALS = (("production", 200, "p50", 10), ("production", 200, "p99", 50), ("production", 500, "p99", 100),
         ("embedded", 100, "p99", 100))  # fmt: skip


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    def rates(text: str) -> list[int]:
        return [int(rate) for rate in text.split(",") if rate.strip()]

    parser = argparse.ArgumentParser(prog="python -m bench.routing_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--rates", type=rates, default=list(PRODUCTION_RATES), help="production shape; '' skips it")
    parser.add_argument("--embedded-rates", type=rates, default=list(EMBEDDED_RATES), help="'' skips the shape")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="of load at each rate")
    parser.add_argument("--drain", type=float, default=DRAIN, help="most seconds to wait for the last assignment")
    parser.add_argument("--through", action="store_true", help="every rate listed, even after one saturates")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="the load generator's connections")
    return parser.parse_args(list(argv))


async def climb(flow: Flow, bootstrap: str, rates: Sequence[int], args: argparse.Namespace) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    async with Assignments(bootstrap, *flow.topics) as reader:
        await asyncio.sleep(2.0)  # the services' start behind them
        at_rest = await idle(flow, IDLE)
        print(f"{flow.shape} with no load, CPU ms per second: {at_rest}", flush=True)
        for rate in rates:
            runs.append(await measure(flow, reader, rate, args.seconds, args.drain, connections=args.connections))
            print(table(runs[-1], at_rest), flush=True)
            if runs[-1]["saturated"] and not args.through:
                print(f"{flow.shape}: {rate}/s saturates the flow; no higher rate", flush=True)
                break
    return {"idle_cpu_ms_per_s": at_rest, "rates": runs}


def run(argv: Sequence[str] = ()) -> None:
    args = arguments(argv)
    broker = kafka()
    figures: dict[str, Any] = {
        "seconds_per_rate": args.seconds, "drain_s": args.drain, "agents_at_least": AGENTS,
        "saturated_when": f"not every accepted ticket assigned within the drain, errors over 1%, or p50 over "
                          f"{SATURATED_P50_MS:.0f} ms",
        "cpu_ms_per_ticket_is": "CPU of each process from the load's start to the last assignment, per ticket assigned",
        "through": args.through, "load_connections": args.connections,
    }  # fmt: skip
    if args.rates:
        with production(broker, postgres()) as flow:
            figures["production"] = asyncio.run(climb(flow, broker.bootstrap, args.rates, args))
    if args.embedded_rates:
        with embedded(broker) as flow:
            figures["embedded"] = asyncio.run(climb(flow, broker.bootstrap, args.embedded_rates, args))
    record(NAME, figures, show=False)
    plot()


def plot() -> None:
    """p50 and p99 from POST to assignment against the offered rate, the latest run of each shape."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    for shape, colour in (("production", "tab:blue"), ("embedded", "tab:orange")):
        latest = next((run for run in reversed(history(NAME)) if run["figures"].get(shape)), None)
        if latest is None:
            continue
        runs = latest["figures"][shape]["rates"]
        when = f"{latest['at'][:10]}, {latest['commit']}"
        for percentile, style in (("p50", "-"), ("p99", "--")):
            points = [(r["rate_per_s"], r["post_to_assignment_ms"][percentile]) for r in runs
                      if percentile in r["post_to_assignment_ms"]]  # fmt: skip
            axes.plot(*zip(*points, strict=True), style, marker="o", color=colour,
                      label=f"{shape} {percentile} ({when})")  # fmt: skip
        saturated = [(r["rate_per_s"], r["post_to_assignment_ms"].get("p50", 0)) for r in runs if r["saturated"]]
        if saturated:
            axes.plot(*zip(*saturated, strict=True), "x", color="red", markersize=12)
    for shape, rate, percentile, ms in GOALS:
        axes.plot(rate, ms, "*", color="tab:green", markersize=11)
        axes.annotate(f"goal: {shape} {percentile}", (rate, ms), textcoords="offset points", xytext=(5, -10),
                      fontsize=7, color="tab:green")  # fmt: skip
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(PRODUCTION_RATES, [str(rate) for rate in PRODUCTION_RATES])
    axes.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_xlabel("offered rate, tickets/s")
    axes.set_ylabel("POST to assignment on Kafka, ms")
    axes.set_title("Ticket opened to assigned (x: the rate saturates the flow)")
    save_plot(figure, axes, NAME)


if __name__ == "__main__":
    run(sys.argv[1:])
