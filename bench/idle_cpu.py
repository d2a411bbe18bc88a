"""What an idle desk costs: CPU each process spends per second with no traffic at all.

Intake and routing run one process per role on PostgreSQL, as in bench/routing_latency.py,
with agents set up and nothing else happening. Relays and projectors wake when their store
commits (services/chassis/storage/wake.py), so an idle desk should cost next to nothing; a
worker that polls again shows here. PostgreSQL is the desk's own database's backends (the
server is shared with whatever else runs). Kafka's broker is left out: on a shared broker its
figure is everyone's.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench.results import write
from bench.routing_latency import set_up
from tests.harness import desk_settings
from tests.infra import kafka, postgres

SECONDS = 10.0
SETTLE_SECONDS = 5.0
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def backends(dbname: str) -> list[int]:
    """The PostgreSQL backends connected to `dbname`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if command.startswith("postgres:") and f" {dbname} " in command:
                pids.append(int(entry.name))
    return pids


def run() -> None:
    broker, pg = kafka(), postgres()
    with pg.fresh_database() as dbname, tempfile.TemporaryDirectory() as tmp:
        desk = desk_settings(Path(tmp), "postgres", broker, pg, dbname)
        try:
            processes = {
                f"{name} {role}": desk.service(name, role).start()
                for name in ("routing", "intake")
                for role in ("api", "consumer", "relay")
            }
            set_up(processes["intake api"].url)
            time.sleep(SETTLE_SECONDS)
            pids = {name: service.process.pid for name, service in processes.items() if service.process}
            pids |= {f"postgres backend {pid}": pid for pid in backends(dbname)}
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            started = time.monotonic()
            time.sleep(SECONDS)
            elapsed = time.monotonic() - started
            spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
        finally:
            desk.stop_all()
    per_second = {name: round(spent[name] / elapsed * 1000, 1) for name in processes}
    per_second["postgres backends"] = round(
        sum(v for k, v in spent.items() if k.startswith("postgres")) / elapsed * 1000, 1
    )
    write("idle_cpu", {"seconds": SECONDS, "cpu_ms_per_second": per_second})


if __name__ == "__main__":
    run()
