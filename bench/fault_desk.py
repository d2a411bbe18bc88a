"""The desk bench/faults.py strikes: the production shape (one process per role, as deploy/k8s runs
them) of intake, routing, SLA and analytics on PostgreSQL and Kafka, with the peers it talks to (an
SMTP sink for its mail, a webhook receiver), set up for one tenant; the faults it can take; and when it
has recovered from one.

A fault's target is a set of processes of the desk, or the PostgreSQL or Kafka it runs on. The desk has
recovered when every process answers ready and every relay and consumer is caught up: its lag (the
`servicedesk_relay_lag_events` and `servicedesk_consumer_lag_messages` it exports) is within what two
seconds of the load bring."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, aclosing, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiosmtpd.controller import Controller
from prometheus_client.parser import text_string_to_metric_families

from services.intake.people.finder import People
from tests.channel_peers import DOMAIN, Receiver, Sink
from tests.client import headers
from tests.harness import Desk, Service, desk_settings
from tests.infra import Control, Kafka, Postgres
from tests.privacy import desk_intake
from tests.sla_load import policy

TENANT = "faults"
MAILBOX = "support@faults.test"
AGENTS, CAPACITY = 10, 20
REQUESTERS = 20
FIRST_RESPONSE, RESOLUTION = timedelta(seconds=3), timedelta(seconds=10)  # warnings at 50 % and 90 % of each
ROLES = (("routing", "api"), ("routing", "consumer"), ("routing", "relay"), ("sla", "api"), ("sla", "consumer"),
         ("sla", "scheduler"), ("sla", "relay"), ("analytics", "consumer"), ("intake", "relay"),
         ("intake", "consumer"), ("intake", "mailer"), ("intake", "webhooks"), ("intake", "api"))  # fmt: skip
# fault target -> the processes it strikes (service, role); PostgreSQL and Kafka are the infrastructure's
TARGETS: dict[str, tuple[tuple[str, str], ...]] = {
    "intake api": (("intake", "api"),), "intake relay": (("intake", "relay"),),
    "intake consumer": (("intake", "consumer"),), "mailer": (("intake", "mailer"),),
    "webhooks": (("intake", "webhooks"),), "routing consumer+relay": (("routing", "consumer"), ("routing", "relay")),
    "routing consumer": (("routing", "consumer"),), "routing relay": (("routing", "relay"),),
    "sla consumer+scheduler": (("sla", "consumer"), ("sla", "scheduler")),
    "sla consumer": (("sla", "consumer"),), "sla scheduler": (("sla", "scheduler"),),
    "analytics consumer": (("analytics", "consumer"),), "postgresql": (), "kafka": (),
}  # fmt: skip
Positions = dict[str, tuple[int, int]]  # consumer group -> its committed offsets and its topics' ends, summed
Read = tuple[float, Positions]  # positions, and when they were read (time.monotonic)
HOW = ("sigkill", "sigterm")  # SIGKILL then start; SIGTERM (a clean stop) then start


@dataclass
class FaultDesk:
    desk: Desk
    processes: dict[tuple[str, str], Service]
    sink: Sink
    receiver: Receiver
    infrastructure: dict[str, Control | None]
    requesters: list[str] = field(default_factory=list)
    exits: list[str] = field(default_factory=list)  # processes that exited by themselves, and why
    # after `recovered`: each process's seconds from its `since` until it was last seen not ready or behind
    behind_until: dict[str, float] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return self.processes[("intake", "api")].url

    @property
    def feeds(self) -> dict[str, str]:
        """Each service's event feed (its API process)."""
        return {name: self.processes[(name, "api")].url for name in ("intake", "routing", "sla")}

    def strike(self, target: str, how: str, down: float) -> tuple[float, float]:
        """Fault `target` `how`, `down` seconds, then start it again; when it is back (a process spawned,
        PostgreSQL or the broker answering) and how long its start took (the broker's start is most of a
        Kafka fault: recovery counts from its end, not from its beginning)."""
        if target in ("postgresql", "kafka"):
            control = self.infrastructure[target]
            assert control is not None
            control.kill() if how == "sigkill" else control.stop()
            time.sleep(down)
            began = time.monotonic()
            control.start()  # returns once it answers
            answering = time.monotonic()
            return answering, answering - began
        victims = [self.processes[key] for key in TARGETS[target]]
        for victim in victims:
            victim.kill() if how == "sigkill" else victim.stop()
        time.sleep(down)
        began = time.monotonic()
        for victim in victims:
            victim.start(wait=False)
        return began, time.monotonic() - began

    @property
    def groups(self) -> Groups:
        return Groups(self.desk.settings.kafka_bootstrap_servers, self.desk.settings.kafka_namespace)

    async def recovered(
        self, since: float, lag_ok: float, timeout: float, group_ok: dict[str, float] | None = None,
        groups: Groups | None = None,
    ) -> float | None:  # fmt: skip
        """Seconds from `since` (time.monotonic) until every process answers ready and is caught up; None
        when it had not after `timeout`. `lag_ok`: the messages a process's consumers or relay may be behind;
        `group_ok`: those each consumer group may be behind as Kafka sees it (`lag_ok` at least), asked of
        Kafka through `groups` (else clients of its own) once every process is caught up."""
        behind: list[str] = []
        self.behind_until = {f"{process.name} {process.role}": 0.0 for process in self.processes.values()}
        async with AsyncExitStack() as stack:
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=2.0))
            if groups is None:
                groups = await stack.enter_async_context(aclosing(self.groups))
            while time.monotonic() - since < timeout:
                self.supervise()
                answers = await asyncio.gather(*(caught_up(client, p, lag_ok) for p in self.processes.values()))
                lags = await groups.behind(group_ok or {}, lag_ok) if all(answers) else []
                if all(answers) and not lags:
                    return time.monotonic() - since
                processes = zip(self.processes.values(), answers, strict=True)
                behind = [f"{process.name} {process.role}" for process, ok in processes if not ok]
                behind += [f"group {group}" for group in lags]
                self.behind_until |= dict.fromkeys(behind, round(time.monotonic() - since, 2))
                await asyncio.sleep(0.25)
        print(f"  not ready or behind after {timeout:.0f} s: {', '.join(behind)}", flush=True)
        return None

    def supervise(self) -> None:
        """Start again a process that exited by itself, as Kubernetes would, and note it (with its last words)."""
        for process in self.processes.values():
            if process.process is not None and process.process.poll() is not None:
                last = next((line for line in reversed(process.log_tail(5).splitlines()) if "ERROR" in line), "")
                self.exits.append(f"{process.name} {process.role} exited {process.process.returncode}: {last[:300]}")
                process.start(wait=False)

    def logs_of(self, target: str) -> str:
        return "\n".join(self.processes[key].log_tail(15) for key in TARGETS.get(target, ()))


class Groups:
    """The desk's consumer groups as Kafka sees them: a group is behind while its committed offsets trail
    its topics' ends (a consumer that has not joined its group again after a broker restart exports the
    lag it last saw, and answers ready as soon as the broker does)."""

    def __init__(self, bootstrap: str, namespace: str) -> None:
        self.bootstrap, self.namespace = bootstrap, namespace
        self._started: tuple[AIOKafkaAdminClient, AIOKafkaConsumer] | None = None
        self.latest: Read | None = None  # the positions read last, unless Kafka did not answer then

    async def behind(self, group_ok: dict[str, float], lag_ok: float) -> list[str]:
        """The groups more than `group_ok[group]` (else `lag_ok`) messages behind, or every one while Kafka
        does not answer."""
        found = await self.positions()
        if found is None:
            return ["(Kafka does not answer)"]
        return [group for group, (committed, ends) in found.items()
                if ends - committed > max(group_ok.get(group, lag_ok), lag_ok)]  # fmt: skip

    async def positions(self) -> Positions | None:
        """Each group's committed offsets and its topics' ends, summed over its partitions; None while Kafka
        does not answer (the clients are then closed, and made again at the next call)."""
        try:
            admin, ends = await self._clients()
            found = await asyncio.wait_for(self._read(admin, ends), 5.0)
        except (KafkaError, OSError, TimeoutError):
            self.latest = None
            await self.aclose()
            return None
        self.latest = (time.monotonic(), found)
        return found

    async def read(self) -> Read | None:
        """The positions now, and when they were read."""
        await self.positions()
        return self.latest

    async def aclose(self) -> None:
        if self._started is not None:
            admin, ends = self._started
            self._started = None
            await asyncio.gather(admin.close(), ends.stop(), return_exceptions=True)

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        """The admin client and offsets reader, started once and kept: starting them costs more than a
        poll of the recovery loop should (a third of a second to a second on this machine)."""
        if self._started is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=2_000)
            ends = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, request_timeout_ms=2_000)
            self._started = (admin, ends)
            await asyncio.wait_for(asyncio.gather(admin.start(), ends.start()), 3.0)
        return self._started

    async def _read(self, admin: AIOKafkaAdminClient, ends: AIOKafkaConsumer) -> Positions:
        names = [group for group, _ in await admin.list_consumer_groups() if group.startswith(self.namespace)]
        offsets = await asyncio.gather(*(admin.list_consumer_group_offsets(group) for group in names))
        tops = await ends.end_offsets(list({tp for committed in offsets for tp in committed}))
        found = {
            group.removeprefix(self.namespace): (
                sum(max(meta.offset, 0) for meta in committed.values()),
                sum(tops[tp] for tp in committed),
            )
            for group, committed in zip(names, offsets, strict=True)
        }
        return found


@dataclass
class GroupLoad:
    """What the load puts on each consumer group's topics, pooled over every stretch of steady load measured
    (the seconds before each fault, from the desk caught up to the fault): how far behind a group may be
    and still be caught up. Pooled, a stretch of a second measures it no worse than a long one."""

    messages: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, first: Read | None, then: Read | None) -> None:
        """The stretch of load between two reads of the groups' positions."""
        if first is None or then is None or then[0] <= first[0]:
            return
        for group, (_, end) in then[1].items():
            if group in first[1]:
                self.messages[group] = self.messages.get(group, 0) + end - first[1][group][1]
                self.seconds[group] = self.seconds.get(group, 0.0) + then[0] - first[0]

    def measured(self) -> float:
        """The seconds of load measured (of the group measured longest)."""
        return max(self.seconds.values(), default=0.0)

    def two_seconds(self) -> dict[str, float]:
        """What two seconds of the load put on each group's topics (a group reading every public topic gets
        some three messages a command; one reading SLA's clocks alone, far fewer)."""
        return {group: 2 * self.messages[group] / seconds for group, seconds in self.seconds.items() if seconds > 0}


async def caught_up(client: httpx.AsyncClient, process: Service, lag_ok: float) -> bool:
    """The process answers ready, and its relay's and consumers' lags are within `lag_ok`."""
    try:
        if (await client.get(f"{process.url}/health/ready")).status_code != 200:
            return False
        if process.role not in ("relay", "consumer", "webhooks"):
            return True
        metrics = await client.get(f"{process.url}/metrics")
    except httpx.HTTPError:
        return False
    if metrics.status_code != 200:  # a 503 problem while its store does not answer
        return False
    lag = sum(sample.value for family in text_string_to_metric_families(metrics.text)
              if family.name in ("servicedesk_relay_lag_events", "servicedesk_consumer_lag_messages")
              for sample in family.samples)  # fmt: skip
    return lag <= lag_ok


@contextmanager
def fault_desk(tmp: Path, broker: Kafka, pg: Postgres) -> Iterator[FaultDesk]:
    """The desk started, set up, and stopped at the end; its database dropped."""
    sink, receiver = Sink(), Receiver()
    smtp = Controller(sink, hostname="127.0.0.1", port=sink.port)
    smtp.start()
    receiver.start()
    try:
        with pg.fresh_database() as dbname:
            desk = desk_settings(tmp, "postgres", broker, pg, dbname)
            desk.env |= {
                "SERVICEDESK_SMTP_HOST": "127.0.0.1", "SERVICEDESK_SMTP_PORT": str(sink.port),
                "SERVICEDESK_SMTP_TLS": "none", "SERVICEDESK_MAIL_DOMAIN": DOMAIN,
                "SERVICEDESK_MAILBOXES": json.dumps({MAILBOX: {"tenant": TENANT}}),
                "SERVICEDESK_NOTIFICATION_RETRY_BASE_SECONDS": "0.2", "SERVICEDESK_NOTIFICATION_CLAIM_SECONDS": "5",
                "SERVICEDESK_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
                "SERVICEDESK_AUDIT_CHECKPOINT_SECONDS": "3600",  # no checkpoint among the events counted
            }  # fmt: skip
            processes = {key: desk.service(*key) for key in ROLES}
            try:
                for process in processes.values():
                    process.start()
                faults = FaultDesk(desk, processes, sink, receiver, {"postgresql": pg.control, "kafka": broker.control})
                set_up(faults)
                yield faults
            finally:
                desk.stop_all()
    finally:
        receiver.stop()
        smtp.stop()


def set_up(faults: FaultDesk) -> None:
    """Agents online in one group, an SLA policy whose clocks fall due within seconds, a webhook
    subscription to the receiver, and requesters who are mailed."""
    with httpx.Client(base_url=faults.gateway, timeout=30.0, headers=headers(TENANT)) as client:
        client.put("/v1/routing/groups/first-line", json={"tier": 1, "default": True}).raise_for_status()
        for n in range(AGENTS):
            agent = f"/v1/routing/agents/agent-{n}"
            client.put(agent, json={"groups": ["first-line"], "capacity": CAPACITY}).raise_for_status()
            client.put(f"{agent}/presence", json={"presence": "online"}).raise_for_status()
        client.put("/v1/sla/policies/fast", json=policy(FIRST_RESPONSE, RESOLUTION)).raise_for_status()
        client.put("/v1/webhooks/settings/private-network", json={"allow_private_network": True}).raise_for_status()
        reply = client.post("/v1/webhooks", json={"url": faults.receiver.url})
        reply.raise_for_status()
        faults.receiver.secret = reply.json()["secret"]
    intake = desk_intake(faults.desk.settings)
    people = People(intake, intake.personal)
    faults.requesters = [people.requester_for(TENANT, "email", f"c{n}@customer.test") for n in range(REQUESTERS)]
    intake.close()
