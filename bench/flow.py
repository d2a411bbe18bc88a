"""The flow of issue 22 under open-loop load: a ticket opened at intake's gateway, relayed to Kafka,
decided by routing, relayed back and recorded on the ticket by intake's consumer.

Two shapes of the desk: `production` (intake and routing one process per role on PostgreSQL, as
deploy/k8s runs them) and `embedded` (what `make run` starts for them: SQLite stores, one process
per service doing every role). Only intake and routing run: the flow needs no other service.

`measure` offers one rate for a window and returns its figures: latencies (the events' own recorded
instants, and from each POST's scheduled instant to the assignment read from Kafka), achieved
throughput, and the CPU milliseconds each process spent per ticket assigned, from the load's start
until the last ticket was assigned (or the drain gave up). Each rate has a tenant of its own, with
agents of their own, so that a rate starts as the first did: no agent holds earlier tickets.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.assignments import Assignments
from bench.load import CONNECTIONS, LoadProcess
from bench.processes import Meter, Pids, kafka_broker, parent, pid_of, postgres_backends, rss_mib
from bench.results import percentiles
from schemas.topics import ROUTING_DECISIONS, TICKETS
from tests.client import headers
from tests.harness import Desk, Service, desk_settings
from tests.infra import Kafka, Postgres

AGENTS = 10
CAPACITY = 1000  # the most an agent may hold: AGENTS * CAPACITY bounds the tickets of one rate
SATURATED_P50_MS = 1000.0  # a rate whose p50 is over this (or whose backlog does not drain) saturates the flow
LOAD = "load generator"
READER = "bench (Kafka reader)"


@dataclass
class Flow:
    shape: str
    desk: Desk
    gateway: Service
    services: dict[str, Service]  # "intake api" -> its process
    others: dict[str, Pids] = field(default_factory=dict)  # PostgreSQL, the Kafka broker
    shared: tuple[str, ...] = ()  # roles of `others` that serve other desks too

    @property
    def topics(self) -> tuple[str, str]:
        """The topics the bench's reader follows (bench/assignments.py): intake's tickets, routing's decisions."""
        return self.desk.settings.kafka_name(TICKETS), self.desk.settings.kafka_name(ROUTING_DECISIONS)

    def meter(self) -> Meter:
        return Meter({name: pid_of(service) for name, service in self.services.items()} | self.others)


@contextmanager
def production(broker: Kafka, pg: Postgres, env: dict[str, str] | None = None) -> Iterator[Flow]:
    """`env`: more environment for every process (a bench that traces their memory)."""
    with pg.fresh_database() as dbname, tempfile.TemporaryDirectory() as tmp:
        desk = desk_settings(Path(tmp), "postgres", broker, pg, dbname)
        desk.env |= env or {}
        services = {f"{name} {role}": desk.service(name, role) for name in ("intake", "routing")
                    for role in ("api", "consumer", "relay")}  # fmt: skip
        try:
            for name in ("routing api", "routing consumer", "routing relay", "intake api", "intake consumer",
                         "intake relay"):  # fmt: skip
                services[name].start()
            flow = Flow(
                "production", desk, services["intake api"], services, {"kafka broker": kafka_broker(broker.bootstrap)}
            )
            with pg.connect(dbname) as conn:
                row = conn.execute("SELECT pg_backend_pid()").fetchone()
                postmaster = parent(row[0]) if row is not None else None
            if postmaster is not None:  # a PostgreSQL of this machine
                ours, others = postgres_backends(postmaster, dbname)
                flow.others |= {"postgres backends": ours, "postgres background": others}
            flow.shared = ("kafka broker", "postgres background")
            yield flow
        finally:
            desk.stop_all()


@contextmanager
def embedded(broker: Kafka) -> Iterator[Flow]:
    with tempfile.TemporaryDirectory() as tmp:
        desk = desk_settings(Path(tmp), "sqlite", broker, None, None)
        services = {"intake (every role)": desk.service("intake"), "routing (every role)": desk.service("routing")}
        try:
            services["routing (every role)"].start()
            services["intake (every role)"].start()
            gateway = services["intake (every role)"]
            yield Flow(
                "embedded", desk, gateway, services, {"kafka broker": kafka_broker(broker.bootstrap)}, ("kafka broker",)
            )
        finally:
            desk.stop_all()


def set_up(base_url: str, tenant: str, agents: int) -> None:
    with httpx.Client(base_url=base_url, timeout=30.0, headers=headers(tenant)) as client:
        client.put("/v1/routing/groups/first-line", json={"tier": 1}).raise_for_status()
        for n in range(agents):
            agent = f"/v1/routing/agents/agent-{n}"
            client.put(agent, json={"groups": ["first-line"], "capacity": CAPACITY}).raise_for_status()
            client.put(f"{agent}/presence", json={"presence": "online"}).raise_for_status()


async def measure(
    flow: Flow, reader: Assignments, rate: int, seconds: float, drain: float,
    on_start: Callable[[], None] | None = None, connections: int = CONNECTIONS,
) -> dict[str, Any]:  # fmt: skip
    """Offer `rate` tickets/s for `seconds` over `connections` keep-alive connections, then wait up to `drain` s
    for the last assignment."""
    tenant = f"bench-{rate}-{uuid.uuid4().hex[:6]}"
    offered = int(rate * seconds)
    agents = max(AGENTS, -(-offered * 5 // 4 // CAPACITY))
    await asyncio.to_thread(set_up, flow.gateway.url, tenant, agents)
    reader.follow(tenant)
    await asyncio.sleep(1.0)  # routing's projections take the agents in
    load = await LoadProcess.start(flow.gateway.url, headers(tenant)["Authorization"], rate, seconds, connections)
    meter = flow.meter()
    meter.start()
    began, own = time.perf_counter(), time.process_time()
    load.go()
    if on_start is not None:
        on_start()
    result = await load.result()
    created: dict[str, float] = dict(result["created"])
    deadline = time.perf_counter() + drain
    while len(reader.assigned) < len(created) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    ended = time.perf_counter()
    spent = meter.stop() | {LOAD: result["cpu_seconds"], READER: time.process_time() - own}
    rss = {name: rss_mib(service.process.pid) for name, service in flow.services.items() if service.process}
    return figures(flow, rate, offered, created, reader, result, spent, rss, ended - began)


async def idle(flow: Flow, seconds: float) -> dict[str, float]:
    """CPU ms each process spends per second with no load at all: what polling costs."""
    meter = flow.meter()
    meter.start()
    began, own = time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    spent = meter.stop() | {READER: time.process_time() - own}
    elapsed = time.perf_counter() - began
    return {name: round(cpu * 1000 / elapsed, 2) for name, cpu in spent.items()} | {
        "total": round(sum(spent.values()) * 1000 / elapsed, 2)
    }


def figures(
    flow: Flow, rate: int, offered: int, created: dict[str, float], reader: Assignments, result: dict[str, Any],
    spent: dict[str, float], rss: dict[str, float | None], window: float,
) -> dict[str, Any]:  # fmt: skip
    recorded, end_to_end, last = [], [], 0.0
    for ticket_id, at in created.items():
        if (arrived := reader.assigned.get(ticket_id)) is None:
            continue
        end_to_end.append((arrived - at) * 1000)
        last = max(last, arrived)
        trail = reader.trails[ticket_id]
        if trail.opened is not None and trail.assigned is not None:
            recorded.append((trail.assigned - trail.opened) * 1000)
    assigned = len(end_to_end)
    first = min(created.values(), default=0.0)
    errors = sum(result["errors"].values())
    latency = percentiles(end_to_end)
    per_ticket = max(assigned, 1)
    total = sum(spent.values())
    return {
        "shape": flow.shape, "rate_per_s": rate, "seconds": result["seconds"], "offered": offered,
        "accepted": len(created), "errors": errors, "error_kinds": result["errors"], "assigned": assigned,
        "achieved_per_s": round(assigned / (last - first), 1) if assigned > 1 and last > first else 0.0,
        "opened_to_assigned_recorded_ms": percentiles(recorded), "post_to_assignment_ms": latency,
        "hops_ms": hops(created, reader),
        "saturated": assigned < len(created) or errors > offered / 100 or latency.get("p50", 0) > SATURATED_P50_MS,
        "window_s": round(window, 2),
        "cpu_ms_per_ticket": {name: round(s * 1000 / per_ticket, 2) for name, s in spent.items()}
        | {"total": round(total * 1000 / per_ticket, 2)},
        "cpu_cores": {name: round(s / window, 3) for name, s in spent.items()} | {"total": round(total / window, 3)},
        "shared_processes": list(flow.shared),
        "rss_mib": {name: round(mib, 1) for name, mib in rss.items() if mib is not None},
        "machine_load_1min": round(os.getloadavg()[0], 2),  # over 2, the figures shared the cores with others
    }  # fmt: skip


HOPS = {  # each hop of the flow: from the instant the bench read before it to the one it read after it
    "gateway (POST to opened)": ("posted", "opened"),
    "intake relay (opened)": ("opened", "opened_sent"),
    "routing consumer (to decided)": ("opened_sent", "decided"),
    "routing relay (decided)": ("decided", "decided_sent"),
    "intake consumer (to assigned)": ("decided_sent", "assigned"),
    "intake relay (assigned)": ("assigned", "assigned_sent"),
    "bench reader": ("assigned_sent", "arrived"),
}


def hops(created: dict[str, float], reader: Assignments) -> dict[str, dict[str, float]]:
    """Each hop's latencies over the tickets assigned: from the POST's scheduled instant, through each event's
    recorded instant and its relay's send to Kafka (a record's timestamp, to the ms), to the assignment's
    arrival at the reader. An event's recorded instant is taken as its command decides it, before its commit:
    the commit is in the next hop."""
    wall = time.time() - time.perf_counter()  # the load's and the reader's perf_counter, as wall-clock time
    samples: dict[str, list[float]] = {name: [] for name in HOPS}
    for ticket_id, at in created.items():
        trail, arrived = reader.trails.get(ticket_id), reader.assigned.get(ticket_id)
        if trail is None or arrived is None:
            continue
        instants = vars(trail) | {"posted": at + wall, "arrived": arrived + wall}
        for name, (start, end) in HOPS.items():
            if instants[start] is not None and instants[end] is not None:
                samples[name].append((instants[end] - instants[start]) * 1000)
    return {name: percentiles(values) for name, values in samples.items()}


def table(run: dict[str, Any], at_rest: dict[str, float] | None = None) -> str:
    """One rate's figures as the bench prints them; with the CPU each process spends per second with no
    load (`idle`), also what is left of its CPU per ticket once that is taken away."""
    recorded, e2e = run["opened_to_assigned_recorded_ms"], run["post_to_assignment_ms"]

    def ms(figures: dict[str, float]) -> str:
        return " ".join(f"{q} {figures[q]:.0f}" for q in ("p50", "p99", "p99.9") if q in figures) or "none"

    lines = [
        f"{run['shape']} {run['rate_per_s']}/s: {run['offered']} offered, {run['accepted']} accepted, "
        f"{run['errors']} errors {run['error_kinds'] or ''}, {run['assigned']} assigned, "
        f"{run['achieved_per_s']}/s achieved{', SATURATED' if run['saturated'] else ''}"
        f" (machine load {run.get('machine_load_1min', '?')})",
        f"  opened->assigned (recorded) ms: {ms(recorded)};  post->assignment ms: {ms(e2e)}",
        f"  hops, p50/p99 ms: {hop_line(run.get('hops_ms', {}))}",
        f"  {'process':<30} {'CPU ms/ticket':>13} {'beyond idle':>11} {'cores':>6} {'RSS MiB':>8}",
    ]
    for name, cost in run["cpu_ms_per_ticket"].items():
        mark = " (shared)" if name in run["shared_processes"] else ""
        rss = run["rss_mib"].get(name)
        beyond = beyond_idle(run, name, at_rest)
        lines.append(f"  {name + mark:<30} {cost:>13.2f} {'' if beyond is None else f'{beyond:.2f}':>11} "
                     f"{run['cpu_cores'][name]:>6.2f} {'' if rss is None else f'{rss:.0f}':>8}")  # fmt: skip
    return "\n".join(lines)


def hop_line(hops_ms: dict[str, dict[str, float]]) -> str:
    return ", ".join(f"{name} {h['p50']:.0f}/{h['p99']:.0f}" for name, h in hops_ms.items() if h.get("n")) or "none"


def beyond_idle(run: dict[str, Any], name: str, at_rest: dict[str, float] | None) -> float | None:
    """CPU ms per ticket less what the process would have spent in the window with no load (approximate:
    a poller that finds work may skip an empty poll; meaningless once the processes starve for CPU)."""
    if at_rest is None or name not in at_rest or not run["assigned"] or run["saturated"]:
        return None
    spent: float = run["cpu_ms_per_ticket"][name] - at_rest[name] * run["window_s"] / run["assigned"]
    return round(spent, 2)
