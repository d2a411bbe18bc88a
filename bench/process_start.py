"""How long a service process takes from its spawn to answering ready, per service and role (issue 26).

After a process is killed, the desk waits for its replacement's start: this is a floor under every
recovery time of bench/faults.py. Each role is started `--starts` times on one desk (PostgreSQL and
Kafka, its own database and topics), each process killed once ready; the figures are the medians of
the CPU seconds the process had spent (user + system, /proc) and of the wall seconds from spawn to
its first 200 at `/health/ready`. One uncounted start per service first makes its tables.

    python -m bench.process_start [--starts N] [--only SERVICE ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.processes import cpu_seconds
from bench.results import record
from tests.harness import Desk, Service, desk_settings
from tests.infra import kafka, postgres

ROLES: dict[str, tuple[str, ...]] = {
    "intake": ("api", "relay", "consumer", "webhooks", "smtp", "mailer"),
    "routing": ("api", "consumer", "relay"),
    "sla": ("api", "consumer", "scheduler", "relay"),
    "analytics": ("api", "consumer"),
    "rules": ("api", "consumer", "scheduler", "relay"),
    "knowledge": ("api", "relay"),
    "web": ("all",),
}
READY_TIMEOUT = 120.0


def started(service: Service) -> tuple[float, float]:
    """Start `service`, wait for its readiness, kill it: (CPU seconds at ready, wall seconds to ready)."""
    began = time.monotonic()
    process = service.start(wait=False).process
    if process is None:
        raise RuntimeError(f"{service.name} {service.role} was not spawned")
    with httpx.Client(timeout=5.0) as client:
        while time.monotonic() - began < READY_TIMEOUT:
            if process.poll() is not None:
                raise RuntimeError(f"{service.name} {service.role} exited:\n{service.log_tail()}")
            try:
                if client.get(f"{service.url}/health/ready").status_code == 200:
                    wall = time.monotonic() - began
                    cpu = cpu_seconds(process.pid) or 0.0
                    service.kill()
                    return cpu, wall
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    service.kill()
    raise RuntimeError(f"{service.name} {service.role}: not ready after {READY_TIMEOUT} s\n{service.log_tail()}")


def measure(desk: Desk, name: str, roles: Sequence[str], starts: int) -> dict[str, dict[str, float]]:
    started(desk.service(name, roles[0]))  # makes the service's tables: not what a restart does
    figures = {}
    for role in roles:
        samples = [started(desk.service(name, role)) for _ in range(starts)]
        cpu = statistics.median(sample[0] for sample in samples)
        wall = statistics.median(sample[1] for sample in samples)
        figures[f"{name} {role}"] = {"cpu_seconds": round(cpu, 2), "wall_seconds": round(wall, 2)}
        print(f"{name:>10} {role:<10} CPU {cpu:5.2f} s   wall to ready {wall:5.2f} s", flush=True)
    return figures


def load() -> dict[str, float]:
    one, five, _ = os.getloadavg()
    return {"load_1min": round(one, 2), "load_5min": round(five, 2)}


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.process_start", description=__doc__)
    parser.add_argument("--starts", type=int, default=5, help="starts of each role (the median is kept)")
    parser.add_argument("--only", nargs="*", choices=list(ROLES), default=list(ROLES), help="these services only")
    return parser.parse_args(argv)


def run(argv: Sequence[str] | None = ()) -> None:
    args = arguments(argv)
    broker, server = kafka(), postgres()
    before = load()
    figures: dict[str, Any] = {"starts": args.starts}
    with tempfile.TemporaryDirectory() as tmp, server.fresh_database() as dbname:
        desk = desk_settings(Path(tmp), "postgres", broker, server, dbname)
        desk.env["SERVICEDESK_WEB_OIDC_ISSUER"] = "http://127.0.0.1:9"  # read at the first sign-in, not at start
        try:
            for name in args.only:
                figures |= measure(desk, name, ROLES[name], args.starts)
        finally:
            desk.stop_all()
    figures["machine_load"] = {"before": before, "after": load()}
    record("process_start", figures, show=False)


if __name__ == "__main__":
    run(None)
