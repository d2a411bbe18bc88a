"""The rate the whole desk sustains under bench/faults.py's load (issue 26 runs its fault matrix at half of
it): the same desk (every service's processes, its mail and its webhook receiver) under the same mix of
ticket opens, public replies, status changes and SLA timers falling due, at rising rates, no fault struck.

A rate is sustained when every command is answered 2xx, the load never fell a second behind its instants,
the commands' p99 stays under a second, and at the load's end, the load still on, the desk is caught up as a
fault's recovery asks: every process ready, every relay's, consumer's and consumer group's lag within two
seconds of load. (Drained to nothing takes some seconds more whatever the rate: the SLA clocks of tickets
still open fall due after the load, and their events flow on.) The ticket flow alone
(bench/routing_latency.py) sustains more: here every command also mails, calls the webhook receiver, feeds
analytics and starts or stops SLA clocks. The climb stops at the first rate not sustained.

    SERVICEDESK_KAFKA_PORT=29092 SERVICEDESK_PG_PORT=25432 deploy/local/with-infra.sh \\
        python -m bench.fault_rate [--rates 10,20,40 --seconds 40] [--profile]

Each run is added to bench/results/fault_rate.json beside the earlier ones. With `--profile`, py-spy samples every
desk process over each rate's second half (bench/profile_flow.py): each one's functions by share of its samples,
printed and kept with the rate; the raw stacks in bench/results/profiles/.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any

from bench.database_work import DatabaseWork
from bench.fault_desk import TENANT, FaultDesk, GroupLoad, fault_desk
from bench.fault_load import Load
from bench.processes import Meter, kafka_broker, pid_of
from bench.profile_flow import py_spy, spy_on, summaries
from bench.results import percentiles, record
from bench.sla_timers import database_backends
from tests.infra import Postgres, kafka, postgres

NAME = "fault_rate"
RATES = (10, 20, 30, 40, 50, 60, 80, 100)
SECONDS = 40.0  # of load at each rate: the first ~10 s are mostly openings, a ticket's later steps come after
CAUGHT_UP_OK = 3.0  # seconds, at the load's end, for every lag to be within two seconds of load
P99_OK = 1.0
GIVE_UP = 120.0
IDLE = 10.0  # seconds without load, first: what the desk's processes spend on their own


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fault_rate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--rates", type=lambda text: [float(r) for r in text.split(",")], default=list(RATES))
    parser.add_argument("--seconds", type=float, default=SECONDS, help="of load at each rate")
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--profile", action="store_true",
                        help="py-spy every desk process in each rate's second half (profile_flow.py)")  # fmt: skip
    return parser.parse_args(list(argv))


def run(argv: Sequence[str] = ()) -> None:
    args = arguments(argv)
    rng = random.Random(args.seed)
    steps: list[dict[str, Any]] = []
    broker, pg = kafka(), postgres()
    with tempfile.TemporaryDirectory() as tmp, fault_desk(Path(tmp), broker, pg) as faults:
        meter = processes_of(faults, pg)
        idle = asyncio.run(idle_cpu(IDLE))
        print(f"idle: {idle:.2f} cores busy", flush=True)
        for rate in args.rates:
            steps.append(asyncio.run(at_rate(faults, meter, pg, rate, args.seconds, rng, args.profile)))
            print(line(steps[-1]), flush=True)
            if not steps[-1]["sustained"]:
                break
    sustained = [step["rate_per_s"] for step in steps if step["sustained"]]
    figures = {"seconds_per_rate": args.seconds, "sustained_per_s": max(sustained, default=None),
               "idle_machine_cpu_busy": idle,
               "sustained_is": f"every command 2xx, none sent a second late, p99 under {P99_OK:.0f} s, and at the "
                               f"load's end every lag within two seconds of load (as a fault's recovery is) within "
                               f"{CAUGHT_UP_OK:.0f} s", "rates": steps}  # fmt: skip
    record(NAME, figures, show=False)
    print(f"sustained: {figures['sustained_per_s']} commands/s; the fault matrix's load is half of it")


async def at_rate(
    faults: FaultDesk, meter: Meter, pg: Postgres, rate: float, seconds: float, rng: random.Random, profile: bool
) -> dict[str, Any]:
    load = Load(faults.gateway, TENANT, faults.requesters, rate, rng)
    stop = asyncio.Event()
    busy_before = machine_busy()
    meter.start()
    database = faults.desk.env["POSTGRES_DBNAME"]
    work_before = await asyncio.to_thread(DatabaseWork.taken, pg, database)
    loading = asyncio.create_task(load.run(stop))
    await asyncio.sleep(seconds / 2)  # the first half: tickets open, their later steps begin to fall due
    group_load = GroupLoad()
    roles = {f"{p.name} {p.role}": pid_of(p)()[0] for p in faults.processes.values()} if profile else {}
    spies = {role: spy_on(py_spy(), role, pid, seconds / 2) for role, pid in roles.items()}
    async with aclosing(faults.groups) as groups:
        first = await groups.read()
        await asyncio.sleep(seconds / 2)
        group_load.add(first, await groups.read())
    group_ok = group_load.two_seconds()
    cpu = (machine_busy() - busy_before) / seconds
    spent = meter.stop()
    work = work_before.per_command(await asyncio.to_thread(DatabaseWork.taken, pg, database), load.sent)
    per_command = {role: round(1000 * cpu_s / max(load.sent, 1), 1)
                   for role, cpu_s in sorted(spent.items(), key=lambda item: -item[1])}  # fmt: skip
    profiles = await asyncio.to_thread(summaries, spies, seconds / 2, 12, per_command) if spies else None
    # caught up as a recovery is: every lag within two seconds of load, here with the load still on
    caught_up = await faults.recovered(time.monotonic(), lag_ok=2 * rate, timeout=CAUGHT_UP_OK, group_ok=group_ok)
    behind = dict(sorted(faults.behind_until.items(), key=lambda item: -item[1])[:4])
    stop.set()
    await loading
    quiet = await faults.recovered(time.monotonic(), lag_ok=0, timeout=GIVE_UP)
    answered = percentiles([s * 1000 for s in load.answered_in])
    sustained = (not load.errors and not load.late and answered.get("p99", 0) <= P99_OK * 1000
                 and caught_up is not None)  # fmt: skip
    return {
        "rate_per_s": rate, "commands": load.sent, "acknowledged": len(load.acknowledged),
        "errors": dict(load.errors), "late_commands": load.late, "answered_ms": answered,
        "caught_up_s": None if caught_up is None else round(caught_up, 2), "behind_s": behind,
        "quiet_s": None if quiet is None else round(quiet, 2), "machine_cpu_busy": round(cpu, 2),
        "cpu_ms_per_command": per_command | {"total": round(sum(per_command.values()), 1)},
        "machine_load_1min": round(os.getloadavg()[0], 2), "sustained": sustained,
        "postgres_per_command": work,
    } | ({"profiles": profiles} if profiles else {})  # fmt: skip


async def idle_cpu(seconds: float) -> float:
    """Cores the machine keeps busy with the desk up and no load."""
    busy_before = machine_busy()
    await asyncio.sleep(seconds)
    return round((machine_busy() - busy_before) / seconds, 2)


def processes_of(faults: FaultDesk, pg: Postgres) -> Meter:
    """Every process whose CPU a command costs: the desk's, its database's backends, the broker, and this
    bench's own (the load, the mail sink and the webhook receiver)."""
    roles = {f"{p.name} {p.role}": pid_of(p) for p in faults.processes.values()}
    roles |= database_backends(pg, faults.desk.env["POSTGRES_DBNAME"])
    roles |= {"kafka broker": kafka_broker(faults.desk.settings.kafka_bootstrap_servers),
              "bench (load, mail sink, webhook receiver)": lambda: [os.getpid()]}  # fmt: skip
    return Meter(roles)


def machine_busy() -> float:
    """Core-seconds the machine's CPUs have been busy (not idle or waiting) since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def line(step: dict[str, Any]) -> str:
    answered = step["answered_ms"]
    return (
        f"{step['rate_per_s']:>5.0f}/s: {step['commands']} commands, {sum(step['errors'].values())} errors, "
        f"{step['late_commands']} late; answered p50 {answered.get('p50')} ms p99 {answered.get('p99')} ms; "
        f"caught up in {step['caught_up_s']} s {step['behind_s']}; quiet {step['quiet_s']} s after the load; "
        f"CPU {step['machine_cpu_busy']:.2f} cores, ms a command {step['cpu_ms_per_command']}; PostgreSQL a "
        f"command {step['postgres_per_command']['database']}"
        f" -> {'sustained' if step['sustained'] else 'NOT sustained'}"
    )


if __name__ == "__main__":
    run(sys.argv[1:])
