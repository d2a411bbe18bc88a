"""Where the flow's CPU goes: the production shape of bench/flow.py at one fixed rate, every Python
service process sampled by py-spy for the load's window (attached by pid, non-blocking, 100 Hz,
only the thread holding the GIL: a thread waiting in a C call is not busy).

    python -m bench.profile_flow [--rate 40] [--seconds 15] [--top 15]

Prints, per process, its CPU ms per ticket and the functions with the most samples of their own
(where the process was when sampled) and cumulatively (anywhere on the stack, the event loop's and
the thread pool's own frames left out), each with its share of the process's busy samples and the
CPU ms per ticket that share stands for. The raw collapsed stacks are in
bench/results/profiles/<process>.txt (speedscope and flamegraph.pl read them); the summaries join
the history of bench/results/profile_flow.json.
The sampler costs the services a little CPU of their own: compare profiles with profiles.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.assignments import Assignments
from bench.flow import measure, production, table
from bench.results import RESULTS, record
from tests.infra import ROOT, kafka, postgres

PROFILES = RESULTS / "profiles"
# Frames under everything a thread does (the event loop, the server, a thread pool's worker): left out
# of the cumulative ranking, where they would fill the top rows.
PLUMBING = ("(<frozen runpy>)", "(asyncio/runners.py)", "(asyncio/base_events.py)", "(asyncio/events.py)",
            "(uvicorn/server.py)", "(uvicorn/_compat.py)", "(threading.py)", "(concurrent/futures/thread.py)",
            "(services/chassis/runtime/runtime.py)", "/main.py)")  # fmt: skip


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_flow", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--rate", type=int, default=40, help="tickets/s")
    parser.add_argument("--seconds", type=int, default=15, help="of load, all of them sampled")
    parser.add_argument("--drain", type=float, default=15.0)
    parser.add_argument("--top", type=int, default=15)
    return parser.parse_args(list(argv))


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed (pip install -e '.[dev]')")
    return found


def spy_on(spy: str, name: str, pid: int, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy sampling `pid` for `seconds`, its raw stacks into PROFILES/<name>.txt (`summarise` reads them)."""
    PROFILES.mkdir(parents=True, exist_ok=True)
    output = PROFILES / f"{name.replace(' ', '-')}.txt"
    command = [spy, "record", "--pid", str(pid), "--duration", str(round(seconds)), "--rate", "100", "--nonblocking",
               "--gil", "--full-filenames", "--format", "raw", "-o", str(output)]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def summaries(
    spies: dict[str, subprocess.Popen[bytes]], seconds: float, top: int, ms_per_unit: dict[str, float]
) -> dict[str, Any]:
    """Each spied process's summary (`summarise`) once its py-spy is done, printed as it comes."""
    found = {}
    for name, process in spies.items():
        _, errors = process.communicate(timeout=seconds + 60)
        if process.returncode:
            print(f"py-spy on {name} failed: {errors.decode(errors='replace')[-400:]}")
        path = PROFILES / f"{name.replace(' ', '-')}.txt"
        if path.exists() and name in ms_per_unit:
            found[name] = summarise(path, top, ms_per_unit[name])
            print(report(name, ms_per_unit[name], found[name]))
    return found


def frame(label: str) -> str:
    """`handle (/…/site-packages/aiokafka/consumer/fetcher.py:123)` -> `handle (aiokafka/consumer/fetcher.py)`"""
    name, _, where = label.rpartition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for root in (f"{ROOT}/", "site-packages/", "/lib/python3.11/", "/lib/python3.12/"):
        if root in path:
            path = path.split(root, 1)[1]
            break
    return f"{name} ({path})"


def summarise(path: Path, top: int, ms_per_ticket: float) -> dict[str, Any]:
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [frame(label) for label in stack.split(";")]
        samples += int(count)
        own[frames[-1]] += int(count)
        for name in set(frames):
            anywhere[name] += int(count)

    def ranked(counts: Counter[str], skip_plumbing: bool) -> list[dict[str, Any]]:
        rows = []
        for name, count in counts.most_common():
            share = count / samples
            if skip_plumbing and name.endswith(PLUMBING):
                continue
            rows.append({"function": name, "share": round(share, 4), "ms_per_ticket": round(share * ms_per_ticket, 3)})
            if len(rows) == top:
                break
        return rows

    if not samples:
        return {"samples": 0, "own": [], "cumulative": []}
    return {"samples": samples, "own": ranked(own, False), "cumulative": ranked(anywhere, True)}


def report(name: str, ms_per_ticket: float, summary: dict[str, Any]) -> str:
    lines = [f"== {name}: {ms_per_ticket:.2f} ms CPU per ticket (or command), {summary['samples']} busy samples"]
    for kind in ("own", "cumulative"):
        lines.append(f"  by {kind} samples:{'':<52} share  ms/ticket")
        lines += [f"    {row['function'][:70]:<70} {row['share']:>6.1%} {row['ms_per_ticket']:>9.3f}"
                  for row in summary[kind]]  # fmt: skip
    return "\n".join(lines)


def run(argv: Sequence[str] = ()) -> None:
    args = arguments(argv)
    spy, broker = py_spy(), kafka()
    spies: dict[str, subprocess.Popen[bytes]] = {}
    with production(broker, postgres()) as flow:

        def sample() -> None:
            for name, service in flow.services.items():
                assert service.process is not None
                spies[name] = spy_on(spy, name, service.process.pid, args.seconds)

        async def profiled() -> dict[str, Any]:
            async with Assignments(broker.bootstrap, *flow.topics) as reader:
                return await measure(flow, reader, args.rate, args.seconds, args.drain, on_start=sample)

        figures = asyncio.run(profiled())
        print(table(figures))
        profiles = summaries(spies, args.seconds, args.top, figures["cpu_ms_per_ticket"])
    record(
        "profile_flow",
        {"rate_per_s": args.rate, "seconds": args.seconds, "flow": figures, "profiles": profiles},
        show=False,
    )


if __name__ == "__main__":
    run(sys.argv[1:])
