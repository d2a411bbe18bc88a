"""Soak: the resident memory of each process of the production shape (bench/flow.py) under a steady
load for ten minutes, sampled from /proc every 10 s, with the CPU per ticket and the latency from
POST to assignment over the whole run (bench/flow.py `measure`).

Issue 22 asks for RSS at 500 tickets/s after 10 minutes (goal: <= 150 MiB per Python service,
growth <= 5 %/h). The flow saturates near 137 tickets/s on this machine (2 cores shared with
PostgreSQL, Kafka and the load generator), and a saturated flow only measures its backlog, so the
default rate is 100/s, the highest it sustains; 500/s awaits the throughput work. Growth is the
least-squares slope of the second half of each process's samples (the first half is warm-up:
pools, caches and the interpreter's arenas filling), as a share of its fitted RSS at the half.

    python -m bench.soak [--minutes 10 --rate 100]

Each run is added to bench/results/soak.json beside the earlier ones (with every sample), and
bench/results/soak.png plots the latest run's RSS over time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.assignments import Assignments
from bench.flow import Flow, measure, production, table
from bench.processes import rss_mib
from bench.results import history, record, save_plot
from tests.infra import kafka, postgres

NAME = "soak"
MINUTES = 10.0
RATE = 100
SAMPLE_EVERY = 10.0
DRAIN = 30.0
GOAL_MIB, GOAL_GROWTH = 150.0, 5.0  # issue 22: per Python service; % per hour
Series = dict[str, list[tuple[float, float]]]  # process -> (seconds since the load began, RSS MiB)


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--minutes", type=float, default=MINUTES, help="of steady load")
    parser.add_argument("--rate", type=int, default=RATE, help="tickets opened per second")
    return parser.parse_args(list(argv))


def run(argv: Sequence[str] = ()) -> None:
    args = arguments(argv)
    broker = kafka()
    with production(broker, postgres()) as flow:
        flow_figures, series = asyncio.run(soak(flow, broker.bootstrap, args))
    memory = {name: summary(points) for name, points in series.items()}
    print(table(flow_figures))
    print(report(memory))
    figures = {
        "minutes": args.minutes, "rate_per_s": args.rate, "sample_every_s": SAMPLE_EVERY,
        "goal": {"rss_mib_per_python_service": GOAL_MIB, "growth_percent_per_hour": GOAL_GROWTH},
        "growth_is": "least-squares slope of the second half of the run, per hour, in % of its fit at the half",
        "rss_mib": memory, "shared_processes": ["kafka broker"], "flow": flow_figures,
        "rss_series": {name: [[s, mib] for s, mib in points] for name, points in series.items()},
    }  # fmt: skip
    record(NAME, figures, show=False)
    plot()


async def soak(flow: Flow, bootstrap: str, args: argparse.Namespace) -> tuple[dict[str, Any], Series]:
    """The flow's figures for the run, and each process's RSS samples: (seconds since the load began, MiB)."""
    series: Series = {}
    sampler: list[asyncio.Task[None]] = []
    async with Assignments(bootstrap, flow.topic) as reader:
        await asyncio.sleep(2.0)  # the services' start behind them
        figures = await measure(flow, reader, args.rate, args.minutes * 60, DRAIN,
                                on_start=lambda: sampler.append(asyncio.create_task(sample(flow, series))))  # fmt: skip
        for task in sampler:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return figures, series


async def sample(flow: Flow, series: Series) -> None:
    """Every SAMPLE_EVERY s, the RSS of each of the flow's services and of the Kafka broker (shared)."""
    began = time.perf_counter()
    while True:
        at = round(time.perf_counter() - began, 1)
        pids = {name: [service.process.pid] for name, service in flow.services.items() if service.process}
        pids |= {name: found() for name, found in flow.others.items() if name == "kafka broker"}
        for name, found in pids.items():
            mib = sum(rss for pid in found if (rss := rss_mib(pid)) is not None)
            if found:
                series.setdefault(name, []).append((at, round(mib, 1)))
        await asyncio.sleep(SAMPLE_EVERY - (time.perf_counter() - began) % SAMPLE_EVERY)


def summary(points: list[tuple[float, float]]) -> dict[str, Any]:
    """Start, end and most RSS in MiB, and the growth over the second half in % per hour."""
    half = [point for point in points if point[0] >= points[-1][0] / 2]
    figures: dict[str, Any] = {"start": points[0][1], "end": points[-1][1], "max": max(mib for _, mib in points)}
    if len(half) >= 3:
        fit = statistics.linear_regression([s for s, _ in half], [mib for _, mib in half])
        at_half = fit.intercept + fit.slope * half[0][0]
        figures["growth_percent_per_hour"] = round(fit.slope * 3600 * 100 / at_half, 2)
    return figures


def report(memory: dict[str, dict[str, Any]]) -> str:
    lines = [f"  {'process':<30} {'RSS MiB start':>13} {'end':>7} {'max':>7} {'growth %/h':>10}"
             f"   (goal: <= {GOAL_MIB:.0f} MiB per Python service, growth <= {GOAL_GROWTH:.0f} %/h)"]  # fmt: skip
    for name, rss in memory.items():
        growth = rss.get("growth_percent_per_hour")
        lines.append(f"  {name:<30} {rss['start']:>13.1f} {rss['end']:>7.1f} {rss['max']:>7.1f} "
                     f"{'' if growth is None else f'{growth:.1f}':>10}")  # fmt: skip
    return "\n".join(lines)


def plot() -> None:
    """RSS over time of each process, the latest run, with the goal per Python service."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latest = history(NAME)[-1]
    figures = latest["figures"]
    figure, axes = plt.subplots(figsize=(8, 5))
    for name, points in figures["rss_series"].items():
        if name in figures["shared_processes"]:  # the Kafka broker's JVM, 400+ MiB, would flatten the rest
            continue
        axes.plot([s / 60 for s, _ in points], [mib for _, mib in points], marker=".", label=name)
    axes.axhline(GOAL_MIB, color="tab:green", linestyle="--", label=f"goal: {GOAL_MIB:.0f} MiB per Python service")
    axes.set_xlabel("minutes since the load began")
    axes.set_ylabel("RSS, MiB")
    axes.set_title(
        f"Python services of the production shape at {figures['rate_per_s']} tickets/s\n"
        f"({latest['at'][:10]}, {latest['commit']}; the shared Kafka broker in soak.json)"
    )
    save_plot(figure, axes, NAME)


if __name__ == "__main__":
    run(sys.argv[1:])
