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
bench/results/soak.png plots the latest run's RSS over time. Growth is also given per 10,000 tickets
assigned (the slope of RSS against the count of assignments over the second half), which compares runs
at different rates: a run at 20/s finds at its pace what one at 100/s does.

`--trace N` has routing's processes (`--traced`: those whose name starts so) trace their allocations
with tracemalloc (N frames a traceback; services/chassis/runtime/memory_trace.py) from a quarter of the
load, snapshots each at the second half's start and at the load's end, and prints for each what grew
between them (bench/memory_growth.py), with the heap's figures: resident, Python's blocks, glibc's malloc
in use and free (`--trace 0`: those only, at no cost, and the run is recorded). Tracing costs CPU and
memory (and a snapshot stalls its process for seconds): a traced run's RSS is not one to report.
`--aggregate-cache N` sizes every application's cache: a small one is full soon, and what grows beyond
it shows at a modest rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.assignments import Assignments
from bench.flow import Flow, measure, production, table
from bench.memory_growth import growth
from bench.processes import rss_mib
from bench.results import history, record, save_plot
from services.chassis.runtime.memory_trace import DIRECTORY, FRAMES, SIGNAL
from tests.infra import kafka, postgres

NAME = "soak"
CACHE_SIZE = "SERVICEDESK_AGGREGATE_CACHE_SIZE"
MINUTES = 10.0
RATE = 100
SAMPLE_EVERY = 10.0
SNAPSHOT_WAIT = 5.0  # s for a traced process to write its snapshot
DRAIN = 30.0
GOAL_MIB, GOAL_GROWTH = 150.0, 5.0  # issue 22: per Python service; % per hour
PER_TICKETS = 10_000  # growth is also given per this many tickets assigned
Series = dict[str, list[tuple[float, float]]]  # process -> (seconds since the load began, RSS MiB)
Progress = list[tuple[float, int]]  # (seconds since the load began, tickets assigned), at each sample


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--minutes", type=float, default=MINUTES, help="of steady load")
    parser.add_argument("--rate", type=int, default=RATE, help="tickets opened per second")
    parser.add_argument("--trace", type=int, default=None, metavar="FRAMES",
                        help="trace allocations (FRAMES a traceback; 0: heap figures only)")  # fmt: skip
    parser.add_argument("--traced", default="routing", help="the processes traced: those whose name starts so")
    parser.add_argument("--aggregate-cache", type=int, default=None, metavar="N",
                        help="aggregates each application caches (the desk's default otherwise): a small cache is "
                             "full soon, and what grows beyond it shows at a modest rate")  # fmt: skip
    return parser.parse_args(list(argv))


def run(argv: Sequence[str] = ()) -> None:
    args = arguments(argv)
    broker = kafka()
    with tempfile.TemporaryDirectory() as snapshots:
        env = {FRAMES: str(args.trace), DIRECTORY: snapshots} if args.trace is not None else {}
        if args.aggregate_cache is not None:
            env[CACHE_SIZE] = str(args.aggregate_cache)
        with production(broker, postgres(), env) as flow:
            flow_figures, series, progress, pids = asyncio.run(soak(flow, broker.bootstrap, args))
        heaps: dict[str, list[dict[str, Any]]] = {}
        if args.trace is not None:
            for name, pid in pids.items():
                print(f"{name} (pid {pid}), from the second half's start to the load's end:")
                print(growth(Path(snapshots, f"{pid}-1.snapshot"), Path(snapshots, f"{pid}-2.snapshot")))
                heaps[name] = [json.loads(Path(snapshots, f"{pid}-{n}.heap.json").read_text()) for n in (1, 2)]
    memory = {name: summary(points, progress) for name, points in series.items()}
    print(table(flow_figures))
    print(report(memory))
    if args.trace:
        print("(traced: tracemalloc's own cost is in these RSS figures; not a run to record)")
        return
    figures = {
        "minutes": args.minutes, "rate_per_s": args.rate, "sample_every_s": SAMPLE_EVERY,
        "aggregate_cache": args.aggregate_cache,
        "goal": {"rss_mib_per_python_service": GOAL_MIB, "growth_percent_per_hour": GOAL_GROWTH},
        "growth_is": "least-squares slope of the second half of the run, per hour, in % of its fit at the half",
        "rss_mib": memory, "shared_processes": ["kafka broker"], "flow": flow_figures,
        "rss_series": {name: [[s, mib] for s, mib in points] for name, points in series.items()},
        "assigned_series": [[s, n] for s, n in progress], "machine_load_avg": os.getloadavg(),
        "heap_at_half_and_end": heaps, "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
    }  # fmt: skip
    record(NAME, figures, show=False)
    plot()


async def soak(
    flow: Flow, bootstrap: str, args: argparse.Namespace
) -> tuple[dict[str, Any], Series, Progress, dict[str, int]]:
    """The flow's figures for the run, each process's RSS samples (seconds since the load began, MiB), the
    tickets assigned at each sample, and the traced processes' pids (snapshot at the second half and the end)."""
    series: Series = {}
    progress: Progress = []
    pids = {name: service.process.pid for name, service in flow.services.items()
            if service.process and name.startswith(args.traced)}  # fmt: skip
    tasks: list[asyncio.Task[None]] = []

    def begin() -> None:
        tasks.append(asyncio.create_task(sample(flow, reader, series, progress)))
        if args.trace is not None:
            tasks.append(asyncio.create_task(trace(pids.values(), args.minutes * 60, args.trace > 0)))

    async with Assignments(bootstrap, *flow.topics) as reader:
        await asyncio.sleep(2.0)  # the services' start behind them
        figures = await measure(flow, reader, args.rate, args.minutes * 60, DRAIN, on_start=begin)
        if args.trace is not None:
            await snapshot(pids.values(), 0.0)
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return figures, series, progress, pids


async def trace(pids: Iterable[int], seconds: float, tracing: bool) -> None:
    """Start tracing at a quarter of the load's `seconds` (caches and pools filled), snapshot at the half."""
    if tracing:
        await snapshot(pids, seconds / 4)
        await snapshot(pids, seconds / 4 - SNAPSHOT_WAIT)
    else:
        await snapshot(pids, seconds / 2)


async def snapshot(pids: Iterable[int], after: float) -> None:
    """After `after` s, signal each traced process (to start tracing, then to write a snapshot), and wait for them."""
    await asyncio.sleep(after)
    for pid in pids:
        os.kill(pid, SIGNAL)
    await asyncio.sleep(SNAPSHOT_WAIT)


async def sample(flow: Flow, reader: Assignments, series: Series, progress: Progress) -> None:
    """Every SAMPLE_EVERY s, the RSS of each of the flow's services and of the Kafka broker (shared), and
    the count of tickets assigned so far."""
    began = time.perf_counter()
    while True:
        at = round(time.perf_counter() - began, 1)
        progress.append((at, len(reader.assigned)))
        pids = {name: [service.process.pid] for name, service in flow.services.items() if service.process}
        pids |= {name: found() for name, found in flow.others.items() if name == "kafka broker"}
        for name, found in pids.items():
            mib = sum(rss for pid in found if (rss := rss_mib(pid)) is not None)
            if found:
                series.setdefault(name, []).append((at, round(mib, 1)))
        await asyncio.sleep(SAMPLE_EVERY - (time.perf_counter() - began) % SAMPLE_EVERY)


def summary(points: list[tuple[float, float]], progress: Progress) -> dict[str, Any]:
    """Start, end and most RSS in MiB, and the growth over the second half in % per hour and in MiB per
    PER_TICKETS tickets assigned."""
    half = [point for point in points if point[0] >= points[-1][0] / 2]
    figures: dict[str, Any] = {"start": points[0][1], "end": points[-1][1], "max": max(mib for _, mib in points)}
    if len(half) >= 3:
        fit = statistics.linear_regression([s for s, _ in half], [mib for _, mib in half])
        at_half = fit.intercept + fit.slope * half[0][0]
        figures["growth_percent_per_hour"] = round(fit.slope * 3600 * 100 / at_half, 2)
        assigned = dict(progress)
        counted = [(assigned[s], mib) for s, mib in half if s in assigned]
        if len({n for n, _ in counted}) >= 3:
            by_tickets = statistics.linear_regression([n for n, _ in counted], [mib for _, mib in counted])
            figures[f"growth_mib_per_{PER_TICKETS}_tickets"] = round(by_tickets.slope * PER_TICKETS, 2)
    return figures


def report(memory: dict[str, dict[str, Any]]) -> str:
    lines = [f"  {'process':<30} {'RSS MiB start':>13} {'end':>7} {'max':>7} {'growth %/h':>10} {'MiB/10k':>8}"
             f"   (goal: <= {GOAL_MIB:.0f} MiB per Python service, growth <= {GOAL_GROWTH:.0f} %/h)"]  # fmt: skip
    for name, rss in memory.items():
        growth, per = rss.get("growth_percent_per_hour"), rss.get(f"growth_mib_per_{PER_TICKETS}_tickets")
        lines.append(f"  {name:<30} {rss['start']:>13.1f} {rss['end']:>7.1f} {rss['max']:>7.1f} "
                     f"{'' if growth is None else f'{growth:.1f}':>10} "
                     f"{'' if per is None else f'{per:.2f}':>8}")  # fmt: skip
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
