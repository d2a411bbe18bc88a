"""What each process of a benchmark spends: CPU (utime + stime of /proc/<pid>/stat, every thread) and
resident memory, by role, with the PostgreSQL backends of one database and the Kafka broker found
among the machine's processes.

A role is a set of pids read afresh at each snapshot (PostgreSQL opens and closes backends), so a
process that starts inside a window counts from zero, and one that ends inside it is lost.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")
Pids = Callable[[], list[int]]


class Started(Protocol):
    """A process a bench started, and may have restarted: `process` is its current one (None while down)."""

    @property
    def process(self) -> subprocess.Popen[Any] | None: ...


def pid_of(started: Started) -> Pids:
    """The pid of whatever process `started` runs at each snapshot (a restarted service's new one)."""
    return lambda: [started.process.pid] if started.process is not None else []


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of every thread of `pid` so far; None when it is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime: fields 14 and 15 of proc(5)


def rss_mib(pid: int) -> float | None:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def command_line(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def parent(pid: int) -> int | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def children(of: int) -> list[int]:
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and parent(int(entry.name)) == of:
            found.append(int(entry.name))
    return found


def kafka_broker(bootstrap: str) -> Pids:
    """The pid of the Kafka broker's JVM on this machine that listens on `bootstrap`'s port (none when
    the broker runs elsewhere): the shared broker's, not a second one started beside it to try settings."""
    port = bootstrap.rsplit(":", 1)[-1]

    def pids() -> list[int]:
        for entry in PROC.iterdir():
            words = command_line(int(entry.name)).split() if entry.name.isdigit() else []
            if "kafka.Kafka" in words and _listens_on(Path(words[-1]), port):
                return [int(entry.name)]
        return []

    return pids


def _listens_on(config: Path, port: str) -> bool:
    """Whether the broker configured by `config` (its server.properties) has a listener on `port`."""
    try:
        lines = config.read_text().splitlines()
    except OSError:
        return False
    listeners = next((line.split("=", 1)[1] for line in lines if line.startswith("listeners=")), "")
    return any(address.rsplit(":", 1)[-1] == port for address in listeners.split(","))


def postgres_backends(postmaster: int, dbname: str) -> tuple[Pids, Pids]:
    """The backends serving `dbname`, and the cluster's own processes (checkpointer, WAL writer, ...)
    that serve every database, this benchmark's and any other's."""

    def titles() -> list[tuple[int, list[str]]]:
        return [(pid, command_line(pid).split()) for pid in children(postmaster)]

    def ours() -> list[int]:  # "postgres: <user> <database> <host>(<port>) <state>"
        return [pid for pid, words in titles() if len(words) >= 3 and dbname in words[2:]]

    def shared() -> list[int]:  # "postgres: walwriter", "postgres: autovacuum launcher"; no client's address
        return [pid for pid, words in titles() if not any("(" in word or word == "[local]" for word in words)
                and dbname not in words]  # fmt: skip

    return ours, shared


@dataclass
class Meter:
    """CPU seconds per role between two instants: `start()`, then `stop()` returns the deltas."""

    roles: Mapping[str, Pids]
    _before: dict[str, dict[int, float]] = field(default_factory=dict)

    def snapshot(self) -> dict[str, dict[int, float]]:
        taken = {}
        for role, pids in self.roles.items():
            taken[role] = {pid: seconds for pid in pids() if (seconds := cpu_seconds(pid)) is not None}
        return taken

    def start(self) -> None:
        self._before = self.snapshot()

    def stop(self) -> dict[str, float]:
        after = self.snapshot()
        spent = {}
        for role, now in after.items():
            before = self._before.get(role, {})
            spent[role] = sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())
        return spent
