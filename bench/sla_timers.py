"""SLA timer lateness with many live clocks: how long after its due instant each warning and breach
is recorded, while the service runs. The SLA service (all roles, one process) runs on PostgreSQL;
tickets are opened by writing `ticket.opened` straight onto the tickets topic (tests/sla_load.py);
lateness is read back from its store. Each clock has two targets with 50 % and 90 % warnings.

By default (`make bench`), 10,000 clocks (target: p99 <= 1 s): every ticket is on the topic before
the first opening instant, the instants spread over two minutes, so 60,000 firings fall due over
about three and a half minutes.

With `--rate`, issue 22's measure (target: p99 <= 250 ms with 100,000 live clocks during a 200
tickets/s run): the tickets open at that rate as they would arrive, each sent at its opening
instant, so the service starts clocks while earlier ones fire. First response is due a minute
after opening, resolution once the last ticket has opened (so every clock still waits for a
firing when the last one starts: the peak is every clock live). The run ends a few seconds
after the last ticket's first-response breach was due; the firings due by then are measured,
the resolution firings due later are not waited for. The number of clocks live (the
service's `servicedesk_sla_timers_scheduled` gauge) is sampled every 10 s. A service that starts
clocks slower than tickets open fires the late-started clocks late too: the lateness of the
firings whose clock had started before they fell due is the scheduler's own, given apart.

With `--roles`, the service runs as production does, one process per role (api, consumer, scheduler,
relay), and the CPU each spends per clock is given apart, with that of the PostgreSQL backends of the
run's database (read from /proc, utime + stime, over the run).

    python -m bench.sla_timers --clocks 100000 --rate 200
    python -m bench.sla_timers --clocks 20000 --rate 100 --roles   # a shared machine's size
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.processes import Meter, Pids, cpu_seconds, parent, pid_of, postgres_backends, rss_mib
from bench.results import percentiles, record
from schemas.topics import TICKETS
from services.chassis.storage.store import store_env
from services.sla.application import Sla
from tests.client import headers
from tests.harness import Service, desk_settings
from tests.infra import Postgres, kafka, postgres
from tests.sla_load import Outcomes, clocks_started, open_tickets, outcomes, policy

CLOCKS = 10_000
LEAD = timedelta(seconds=150)  # time to open and start every clock before the first opening instant
SPREAD = 120.0
FIRST_RESPONSE, RESOLUTION = timedelta(seconds=60), timedelta(seconds=120)
THRESHOLDS = (0.5, 0.9, 1.0)  # the policy's warnings and its breach, as fractions of a target
RATE_LEAD = timedelta(seconds=5)  # the producer started before the first opening instant
LIVE_AFTER_LAST = timedelta(seconds=40)  # the first clock's resolution is due this long after the last opens
SETTLE = 5.0  # seconds after the last firing measured fell due
SAMPLE_EVERY = 10.0
GAUGE = "servicedesk_sla_timers_scheduled"
ROLES = ("api", "consumer", "scheduler", "relay")
TENANT = "bench"


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sla_timers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--clocks", type=int, default=CLOCKS, help="tickets opened, one clock each")
    parser.add_argument("--rate", type=float, default=None, help="tickets opened per second, as they arrive")
    parser.add_argument("--roles", action="store_true", help="one process per role, each one's CPU per clock")
    return parser.parse_args(list(argv))


def run(argv: Sequence[str] = ()) -> None:
    args = arguments(argv)
    broker, pg = kafka(), postgres()
    with pg.fresh_database() as dbname, tempfile.TemporaryDirectory() as tmp:
        desk = desk_settings(Path(tmp), "postgres", broker, pg, dbname)
        roles = ROLES if args.roles else ("all",)
        processes = {role: desk.service("sla", role).start() for role in roles}
        service = processes["api" if args.roles else "all"]
        timers = processes["scheduler" if args.roles else "all"]  # where the gauge of live clocks is
        try:
            resolution = RESOLUTION if args.rate is None else max(RESOLUTION, opening(args) + LIVE_AFTER_LAST)
            body = policy(FIRST_RESPONSE, resolution)
            httpx.put(f"{service.url}/v1/sla/policies/bench", json=body, headers=headers(TENANT)).raise_for_status()
            topic = desk.settings.kafka_name(TICKETS)
            store = Sla(env=store_env(desk.settings, Sla.name))
            if args.rate is None:
                figures = spread(args, broker.bootstrap, topic, store)
            else:
                meter = Meter({f"sla {role}": pid_of(process) for role, process in processes.items()}
                              | database_backends(pg, dbname))  # fmt: skip
                figures = asyncio.run(steady(args, broker.bootstrap, topic, store, timers, resolution, meter))
            metrics = httpx.get(f"{timers.url}/metrics").text
        finally:
            desk.stop_all()
    figures["prometheus_histogram"] = [line for line in metrics.splitlines()
                                       if line.startswith("servicedesk_sla_timer_lateness_seconds_count")]  # fmt: skip
    record("sla_timers", figures)
    late, in_time = figures["lateness_ms"], figures["lateness_of_clocks_started_before_due_ms"]
    for name, ms in figures.get("cpu_ms_per_clock", {}).items():
        print(f"  {name:<28} {ms:8.3f} ms CPU per clock")
    print(f"{figures['firings']} firings, lateness ms p50 {late.get('p50')} p99 {late.get('p99')} max {late.get('max')}"
          f" (goal p99 <= 250); of clocks started before due: {in_time}; duplicates {figures['duplicates']}"
          f" (must be 0); peak live clocks {figures.get('peak_live_clocks')}")  # fmt: skip


def spread(args: argparse.Namespace, bootstrap: str, topic: str, store: Sla) -> dict[str, Any]:
    """Every ticket on the topic first, opening instants spread over SPREAD s; every firing waited for."""
    start = datetime.now(UTC) + LEAD
    began = time.monotonic()
    asyncio.run(open_tickets(bootstrap, topic, TENANT, args.clocks, start, SPREAD))
    while clocks_started(store) < args.clocks:
        time.sleep(2.0)
    started_in = time.monotonic() - began
    last_due = start + timedelta(seconds=SPREAD) + RESOLUTION
    time.sleep(max(0.0, (last_due - datetime.now(UTC)).total_seconds()) + SETTLE)
    figures = {"clocks": args.clocks, "clocks_started_in_s": round(started_in, 1), "expected_firings": args.clocks * 6}
    return figures | lateness(outcomes(store))


def database_backends(pg: Postgres, dbname: str) -> dict[str, Pids]:
    """The PostgreSQL backends serving `dbname`, when PostgreSQL runs on this machine."""
    with pg.connect(dbname) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        postmaster = parent(row[0]) if row is not None else None
    return {} if postmaster is None else {"postgres backends": postgres_backends(postmaster, dbname)[0]}


async def steady(
    args: argparse.Namespace,
    bootstrap: str,
    topic: str,
    store: Sla,
    service: Service,
    resolution: timedelta,
    meter: Meter,
) -> dict[str, Any]:
    """Tickets opened at `args.rate` while the clocks fire; the firings due by the last first-response breach.
    `service`: the process that schedules (its gauge, its RSS); `meter`: every process whose CPU counts."""
    start = datetime.now(UTC) + RATE_LEAD
    due_by = start + opening(args) + FIRST_RESPONSE
    pid = service.process.pid if service.process is not None else 0
    cpu = cpu_seconds(pid) or 0.0
    meter.start()
    last_sent, samples = await asyncio.gather(
        finished(open_tickets(bootstrap, topic, TENANT, args.clocks, start, 0.0, rate=args.rate)),
        live(service.url, pid, start, due_by + timedelta(seconds=SETTLE)),
    )
    spent = (cpu_seconds(pid) or cpu) - cpu
    per_process = {name: round(seconds * 1000 / max(args.clocks, 1), 3) for name, seconds in meter.stop().items()}
    started = await asyncio.to_thread(clocks_started, store)
    result = await asyncio.to_thread(outcomes, store, due_by)
    peak = max(samples, key=lambda sample: sample["live_clocks"] or 0)
    return {
        "clocks": args.clocks, "opening_rate_per_s": args.rate,
        "last_opened_after_s": round((last_sent - start).total_seconds(), 1),
        "targets_s": {"first_response": FIRST_RESPONSE.total_seconds(), "resolution": resolution.total_seconds()},
        "measured_firings_due_within_s": round((due_by - start).total_seconds(), 1),
        "clocks_started_at_the_end": started, "expected_firings": (due := expected(args, start, resolution, due_by)),
        "firings_due_not_recorded": due - result.firings,
        "peak_live_clocks": peak["live_clocks"], "peak_live_at_s": peak["s"], "cpu_ms_per_clock": per_process,
        "sla_process": {"cpu_ms_per_clock": round(spent * 1000 / max(args.clocks, 1), 3),
                        "rss_mib_start": samples[0]["rss_mib"], "rss_mib_end": samples[-1]["rss_mib"]},
        "live_clocks_every_10s": samples,
    } | lateness(result)  # fmt: skip


def opening(args: argparse.Namespace) -> timedelta:
    """From the first opening instant to the last, at `args.rate`."""
    return timedelta(seconds=(args.clocks - 1) / args.rate)


def expected(args: argparse.Namespace, start: datetime, resolution: timedelta, due_by: datetime) -> int:
    """The firings due by `due_by` of tickets opened one every 1/rate s from `start`."""
    last = (due_by - start).total_seconds()
    count = 0
    for target in (FIRST_RESPONSE.total_seconds(), resolution.total_seconds()):
        for fraction in THRESHOLDS:
            if (room := last - target * fraction) >= 0:
                count += min(args.clocks, int(room * args.rate + 1e-6) + 1)
    return count


async def finished(opening: Any) -> datetime:
    await opening
    return datetime.now(UTC)


async def live(url: str, pid: int, start: datetime, until: datetime) -> list[dict[str, Any]]:
    """Every SAMPLE_EVERY s until `until`: clocks waiting to fire (the service's gauge) and its RSS."""
    samples: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
        while True:
            now = datetime.now(UTC)
            try:
                text = (await client.get("/metrics")).text
            except httpx.HTTPError:
                text = ""
            gauge = next((line.split()[1] for line in text.splitlines() if line.startswith(f"{GAUGE} ")), None)
            samples.append({"s": round((now - start).total_seconds(), 1),
                            "live_clocks": None if gauge is None else int(float(gauge)),
                            "rss_mib": None if (rss := rss_mib(pid)) is None else round(rss, 1)})  # fmt: skip
            if now >= until:
                return samples
            await asyncio.sleep(min(SAMPLE_EVERY, max(0.0, (until - now).total_seconds())))


def lateness(result: Outcomes) -> dict[str, Any]:
    late_ms = [s * 1000 for s in result.lateness["warning"] + result.lateness["breach"]]
    return {
        "firings": result.firings, "duplicates": result.duplicates, "lateness_ms": percentiles(late_ms),
        "warning_lateness_ms": percentiles([s * 1000 for s in result.lateness["warning"]]),
        "breach_lateness_ms": percentiles([s * 1000 for s in result.lateness["breach"]]),
        "lateness_of_clocks_started_before_due_ms": percentiles([s * 1000 for s in result.started_in_time]),
        "recorded_before_due": len([s for s in late_ms if s < 0]),
        "mean_ms": round(statistics.fmean(late_ms), 3) if late_ms else None,
    }  # fmt: skip


if __name__ == "__main__":
    import sys

    run(sys.argv[1:])
