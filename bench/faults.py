"""Faults under load (issue 26): the production shape on PostgreSQL and Kafka (bench/fault_desk.py) under
a steady load of ticket opens, public replies, status changes and SLA timers falling due
(bench/fault_load.py); in each run, at a random instant, one fault of the matrix {SIGKILL, SIGTERM} x
{intake api, intake relay, intake consumer, mailer, webhooks, routing consumer+relay, SLA
consumer+scheduler, analytics consumer, PostgreSQL, Kafka}, then the target started again. The runs of a
kind go under one load, each fault struck 1-3 s after the desk recovered from the last (the
first after 20 s of load that warm the desk).

After the runs of a kind (or every N: `--check-every N`), with the load stopped and the desk drained, the
invariants (tests/desk_invariants.py, shared with the fault tests): every acknowledged command's events in
intake's store; no ticket assigned twice and no agent ever over capacity; no SLA warning or breach recorded
twice; every ticket's acknowledgement mailed and no mail sent twice; every event of the tenant's feed
delivered to the webhook receiver, and a delivery repeated only under its webhook-id; analytics' projection
equal to its rebuild from the feeds and routing's load view equal to the agents; no store position skipped
by a relay (the feeds against the topics) or by analytics' consumer; the desk recovered within 10 s of the
restart.

Recovery is the time from the target's start again (the process spawned; PostgreSQL or the broker
answering, whose own start is reported apart) until every process answers ready and every relay's and
consumer's lag is within two seconds of load, and so is every consumer group's as Kafka sees it (two
seconds of the messages on its topics, measured over every stretch of load before a fault: a group reading
every public topic gets some three messages a command).
PostgreSQL and Kafka are struck only on infrastructure of the bench's own, never on the shared default ports,
on ports below the kernel's ephemeral range (a client connecting to a port of that range while the broker is
down can be given that very port and connect to itself, and the broker cannot bind it again):

    SERVICEDESK_KAFKA_PORT=29092 SERVICEDESK_PG_PORT=25432 deploy/local/with-infra.sh \\
        python -m bench.faults [--runs 20 --rate 12.5 --targets kafka,mailer --how sigkill]

Each run of the bench is added to bench/results/faults.json beside the earlier ones.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import aclosing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.fault_checks import CapacityLedger, Mark, enable_webhooks_again
from bench.fault_desk import HOW, TARGETS, TENANT, FaultDesk, GroupLoad, Groups, fault_desk
from bench.fault_load import Load
from bench.results import history, record
from tests.infra import kafka, postgres

NAME = "faults"
RUNS = 20
RATE = 12.5  # commands a second: half the 25/s the whole desk sustained under this load (bench/fault_rate.py)
# Seconds of load before the fault (after the desk recovered from the last), drawn at random. Not shorter: a
# recovered desk may still be up to two seconds behind, and struck again within 0.5-1.5 s it took longer to
# recover (2026-12-07 14:03: intake's consumer 6.2 s p50 against 4.1, the mailer 5.5 against 3.4).
BEFORE = (1.0, 3.0)
# seconds of load before the bench's first fault: the broker's JIT and the stores' caches warm before the first
# kind's runs are measured, and what the load puts on each group's topics is measured over them (GroupLoad)
WARM_UP = 20.0
AFTER = 1.0  # seconds of load once the desk has recovered
DOWN = (0.0, 0.5)  # seconds a struck process stays down
INFRA_DOWN = 1.0
RECOVERY_GOAL = 10.0
GIVE_UP = 60.0  # seconds after the restart after which the run counts as not recovered
SHARED_PORTS = {"SERVICEDESK_KAFKA_PORT": "19092", "SERVICEDESK_PG_PORT": "15432"}


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    def names(allowed: Sequence[str]) -> Any:
        def parse(text: str) -> list[str]:
            chosen = [name.strip() for name in text.split(",") if name.strip()]
            if unknown := [name for name in chosen if name not in allowed]:
                raise argparse.ArgumentTypeError(f"not one of {', '.join(allowed)}: {', '.join(unknown)}")
            return chosen

        return parse

    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--runs", type=int, default=RUNS, help="runs of each fault kind")
    parser.add_argument("--rate", type=float, default=RATE, help="commands per second of the steady load")
    parser.add_argument("--targets", type=names(list(TARGETS)), default=list(TARGETS), help="comma-separated")
    parser.add_argument("--how", type=names(HOW), default=list(HOW), help="sigkill, sigterm or both")
    check_help = (
        "runs of a kind under one load, the invariants checked after the last of them (default: all "
        "the kind's runs; 1: after each run, the load stopped and the desk drained every time)"
    )
    parser.add_argument("--check-every", type=int, help=check_help)
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--stop-at", metavar="HH:MM", help="start no run after this time of day (UTC)")
    parser.add_argument("--logs", metavar="DIR", type=Path, help="keep the desk's data and logs here (else dropped)")
    latest_help = "print each kind's newest figures from bench/results/faults.json, and run nothing"
    parser.add_argument("--latest", action="store_true", help=latest_help)
    since_help = "with --latest: every run of each kind measured since this UTC instant (2026-12-06T15:00), pooled"
    parser.add_argument("--since", type=instant, help=since_help)
    parser.add_argument("--commit", help="with --latest: every run of each kind measured on this commit, pooled")
    return parser.parse_args(list(argv))


def own_infrastructure() -> bool:
    """Whether Kafka and PostgreSQL are this bench's own (deploy/local on ports of its own), to kill."""
    return all(os.environ.get(name, shared) != shared for name, shared in SHARED_PORTS.items()) and not any(
        os.environ.get(name) for name in ("KAFKA_BOOTSTRAP_SERVERS", "POSTGRES_HOST")
    )


def run(argv: Sequence[str] = ()) -> None:
    args = arguments(argv)
    if args.latest:
        pooling = args.since is not None or args.commit is not None
        print(table(pooled(args.since, args.commit) if pooling else latest()))
        return
    kinds = [(how, target) for how in args.how for target in args.targets]  # in the order given
    if not own_infrastructure():
        if skipped := [kind for kind in kinds if kind[1] in ("postgresql", "kafka")]:
            print(f"not striking {', '.join(sorted({t for _, t in skipped}))}: the infrastructure is shared "
                  f"(run on ports of the bench's own: see python -m bench.faults --help)")  # fmt: skip
        kinds = [kind for kind in kinds if kind[1] not in ("postgresql", "kafka")]
    rng = random.Random(args.seed)
    broker, pg = kafka(), postgres()
    results: dict[str, dict[str, Any]] = {}
    loads: list[float] = []  # the machine's 1-minute load average at the end of each run
    started = time.monotonic()
    stop_at = stopping_at(args.stop_at)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the desk's processes on the way out

    def save(again: bool) -> None:
        """Record what was measured so far (again: in the entry this invocation recorded first)."""
        figures = {
            "rate_per_s": args.rate, "runs_per_kind": args.runs, "recovery_goal_s": RECOVERY_GOAL,
            "complete": len(results) == len(kinds) and all(r["runs"] == args.runs for r in results.values()),
            "seconds": round(time.monotonic() - started, 1), "machine_load_1min": load_summary(loads),
            "recovery_is": "from the target started again (PostgreSQL or the broker answering) until every "
                           "process is ready and every relay's, consumer's and consumer group's lag is within two "
                           "seconds of load (a group's: of the messages on its topics, measured before the fault)",
            "faults": results,
        }  # fmt: skip
        record(NAME, figures, show=False, again=again)

    try:
        with kept(args.logs) as tmp, fault_desk(tmp, broker, pg) as faults:
            print(f"desk started in {time.monotonic() - started:.0f} s; logs in {faults.desk.log_dir}", flush=True)
            ledger, group_load = CapacityLedger(), GroupLoad()
            for how, target in kinds:
                runs: list[dict[str, Any]] = []
                while len(runs) < args.runs and (stop_at is None or time.time() < stop_at):
                    count = min(args.check_every or args.runs, args.runs - len(runs))
                    under_load = runs_under_one_load(faults, target, how, args.rate, rng, ledger, group_load, count,
                                                     stop_at)  # fmt: skip
                    if not (done := asyncio.run(under_load)):
                        break
                    runs += done
                    loads.append(round(os.getloadavg()[0], 2))
                    runs[-1]["machine_load_1min"] = loads[-1]
                    results[f"{how} {target}"] = summary(runs)
                    save(again=len(loads) > 1)  # recorded as soon as checked: a stop loses no checked run
    finally:
        print(table(results))
        print(f"machine load (1 min) at the runs' ends: {load_summary(loads)}", flush=True)


@contextmanager
def kept(directory: Path | None) -> Iterator[Path]:
    """Where the desk keeps its data and logs: `directory` (kept after the bench), else a temporary one."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        yield directory
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def stopping_at(text: str | None) -> float | None:
    """The instant (time.time) of `--stop-at HH:MM` (UTC, today or, when past, tomorrow)."""
    if text is None:
        return None
    hours, minutes = (int(part) for part in text.split(":"))
    now = datetime.now(UTC)
    at = now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    return (at if at > now else at + timedelta(days=1)).timestamp()


def load_summary(loads: list[float]) -> dict[str, float] | None:
    if not loads:
        return None
    return {"min": min(loads), "p50": round(statistics.median(loads), 2), "max": max(loads)}


def latest() -> dict[str, dict[str, Any]]:
    """Each fault kind's figures from the newest entry of bench/results/faults.json that measured it
    (kinds may be run in separate invocations: `--targets`, `--how`), with the entry's date."""
    found: dict[str, dict[str, Any]] = {}
    for entry in history(NAME):
        for kind, result in (entry.get("figures") or {}).get("faults", {}).items():
            found[kind] = result | {"at": entry["at"]}
    return found


def instant(text: str) -> datetime:
    """An ISO date-time, UTC unless it names its zone."""
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def pooled(since: datetime | None, commit: str | None) -> dict[str, dict[str, Any]]:
    """Each fault kind's runs from every entry of bench/results/faults.json measured at or after `since`
    and on `commit` (its first digits; "+changes" marks an entry of uncommitted code), summarised together:
    a kind run over several invocations, and no entry of the code before a change."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for entry in history(NAME):
        measured_on = entry["commit"]  # "1def9da76ff2", or "1def9da76ff2+changes"
        same_code = commit is None or (measured_on.startswith(commit) and ("+" in measured_on) == ("+" in commit))
        if same_code and (since is None or datetime.fromisoformat(entry["at"]) >= since):
            for kind, result in (entry.get("figures") or {}).get("faults", {}).items():
                runs.setdefault(kind, []).extend(result.get("runs_detail", []))
    return {kind: summary(found) for kind, found in runs.items() if found}


async def runs_under_one_load(
    faults: FaultDesk, target: str, how: str, rate: float, rng: random.Random, ledger: CapacityLedger,
    group_load: GroupLoad, runs: int, stop_at: float | None,
) -> list[dict[str, Any]]:  # fmt: skip
    """`runs` faults of one kind under one steady load, each struck once the desk recovered from the last
    (and `BEFORE` seconds of load more); then the load stopped, the desk drained and every invariant checked
    over what all of them did. A failed invariant is told of the last of the runs: `--check-every 1` pins
    it to its run."""
    began = time.monotonic()
    mark = Mark.taken(faults)
    load = Load(faults.gateway, TENANT, faults.requesters, rate, rng)
    stop = asyncio.Event()
    loading = asyncio.create_task(load.run(stop))
    done: list[dict[str, Any]] = []
    async with aclosing(faults.groups) as groups:
        if (warming := WARM_UP - group_load.measured()) > 0:
            first = await groups.read()
            await asyncio.sleep(warming)
            group_load.add(first, await groups.read())
        while len(done) < runs and (stop_at is None or time.time() < stop_at):
            done.append(await strike_once(faults, load, groups, group_load, target, how, rate, rng))
    at = finished = time.monotonic()
    await asyncio.sleep(AFTER)
    stop.set()
    await loading
    took = {"load after the last recovery": round(time.monotonic() - at, 2)}
    at = time.monotonic()
    drained = await faults.recovered(at, lag_ok=0, timeout=GIVE_UP)
    took["drain"] = round(time.monotonic() - at, 2)
    at = time.monotonic()
    failures = await asyncio.to_thread(mark.check, faults, load, ledger, took)
    if enabled := await asyncio.to_thread(enable_webhooks_again, faults.gateway):
        print(f"  webhook subscriptions the desk disabled, enabled again: {enabled}", flush=True)
    faults.supervise()
    if faults.exits:  # a process that exited during the drain or the checks: this kind's, not the next one's
        failures["no process exits by itself"], faults.exits = faults.exits, []
    took["checks"] = round(time.monotonic() - at, 2)
    if drained is None:
        failures["drained"] = ["not caught up after the load stopped"]
    if failures := {name: found for name, found in failures.items() if found}:
        print(f"  after {len(done)} runs: {failures}\n{faults.logs_of(target)}", flush=True)
    if done:
        last = done[-1]
        last["failures"] |= {k: v[:5] for k, v in failures.items()}
        last["took_s"] |= took
        last["checked_runs"] = len(done)
        last["seconds"] = round(last["seconds"] + time.monotonic() - finished, 1)  # the load after, drain, checks
        print(f"  checked {len(done)} runs ({round(time.monotonic() - began)} s): {len(load.acknowledged)} of "
              f"{load.sent} commands acknowledged, {len(failures)} invariants failed {list(failures) or ''}",
              flush=True)  # fmt: skip
    return done


async def strike_once(
    faults: FaultDesk, load: Load, groups: Groups, group_load: GroupLoad, target: str, how: str, rate: float,
    rng: random.Random,
) -> dict[str, Any]:  # fmt: skip
    """Some seconds of load, the fault, and the time until the desk recovered from it. The seconds of load,
    from the desk caught up (the groups' positions last read) to the fault, add to `group_load`."""
    began = time.monotonic()
    sent, acknowledged, errors, late = load.sent, len(load.acknowledged), load.errors.copy(), load.late
    took: dict[str, float] = {}  # seconds each phase of the run took

    def phase(name: str, since: float) -> float:
        now = time.monotonic()
        took[name] = round(now - since, 2)
        return now

    caught_up = groups.latest or await groups.read()  # read last as the desk recovered from the last fault
    await asyncio.sleep(rng.uniform(*BEFORE))
    group_load.add(caught_up, await groups.read())
    group_ok = group_load.two_seconds()
    at = phase("load before the fault", began)
    down = INFRA_DOWN if target in ("postgresql", "kafka") else rng.uniform(*DOWN)
    back, start_took = await asyncio.to_thread(faults.strike, target, how, down)
    at = phase("fault and start", at)
    recovery = await faults.recovered(back, lag_ok=2 * rate, timeout=GIVE_UP, group_ok=group_ok, groups=groups)
    phase("recovery", at)
    slowest = dict(sorted(faults.behind_until.items(), key=lambda item: -item[1])[:4])
    failures: dict[str, list[str]] = {}
    if faults.exits:
        failures["no process exits by itself"], faults.exits = faults.exits, []
    if recovery is None or recovery > RECOVERY_GOAL:
        failures["recovered within 10 s"] = [f"recovered in {recovery if recovery is None else round(recovery, 1)} s"]
    figures: dict[str, Any] = {
        "recovery_s": None if recovery is None else round(recovery, 2), "start_s": round(start_took, 2),
        "commands": load.sent - sent, "acknowledged": len(load.acknowledged) - acknowledged,
        "errors": dict(load.errors - errors), "late_commands": load.late - late, "failures": failures,
        "seconds": round(time.monotonic() - began, 1), "took_s": took, "last_behind_s": slowest,
        "group_lag_ok": {group: round(ok, 1) for group, ok in group_ok.items()},
    }  # fmt: skip
    recovered = "never" if recovery is None else f"{recovery:.1f}s"
    print(f"{how} {target}: recovered {recovered} (start {start_took:.1f}s); {figures['commands']} commands, "
          f"{sum(figures['errors'].values())} not acknowledged; {figures['seconds']}s; "
          f"last behind (s after the restart): {slowest}", flush=True)  # fmt: skip
    if failures:
        print(f"  {failures}\n{faults.logs_of(target)}", flush=True)
    return figures


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    recoveries = [run["recovery_s"] for run in runs if run["recovery_s"] is not None]
    failed: dict[str, int] = {}
    for run in runs:
        for name in run["failures"]:
            failed[name] = failed.get(name, 0) + 1
    return {
        "runs": len(runs), "invariant_failures": sum(failed.values()), "failed_invariants": failed,
        "recovery_s": {"p50": round(statistics.median(recoveries), 2) if recoveries else None,
                       "max": max(recoveries, default=None), "not_recovered": len(runs) - len(recoveries)},
        "seconds_per_run": round(statistics.fmean(run["seconds"] for run in runs), 1),
        "start_s_max": max(run["start_s"] for run in runs),
        "runs_detail": runs,
    }  # fmt: skip


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = [f"{'fault':<32} {'runs':>4} {'invariant failures':>18} {'recovery p50 / max s':>21} {'s/run':>6}"]
    for kind, result in results.items():
        recovery = result["recovery_s"]
        p50, most = recovery["p50"], recovery["max"]
        shown = f"{'-' if p50 is None else f'{p50:.1f}'} / {'-' if most is None else f'{most:.1f}'}"
        lines.append(f"{kind:<32} {result['runs']:>4} {result['invariant_failures']:>18} {shown:>21} "
                     f"{result['seconds_per_run']:>6.0f}")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    run(sys.argv[1:])
