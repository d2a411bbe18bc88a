"""A customer with 20 tickets is forgotten, and the desk's history stays whole: on real
PostgreSQL and Kafka, every service running.

The customer's name and address are random per run (other tests share the cluster), written
into titles, descriptions, comments, ratings and the channels' profile. Before and after the
erasure a byte search of the PostgreSQL data directory (tables, indexes, WAL) and of every
record and segment file of the desk's Kafka topics finds neither: the words never landed
anywhere in the clear. After it, every ticket still replays and verifies, its words read
`[erased]`, the export says erased, and the reports give the figures they gave before.
"""

from __future__ import annotations

import asyncio
import random
import string
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from schemas.topics import PUBLIC_TOPICS
from services.intake.people.finder import People
from services.intake.privacy.personal_data import ERASED
from tests import infra
from tests.client import eventually, headers
from tests.harness import Desk
from tests.privacy import desk_intake

TENANT = "acme"
TICKETS = 20
REPORTS = ("backlog", "flow", "service-levels", "csat", "agents")


def _word(length: int) -> str:
    return "".join(random.choices(string.ascii_lowercase, k=length))


@dataclass(frozen=True)
class Customer:
    """Someone nobody else on the cluster is called: a fresh name and address each run."""

    first: str
    last: str
    address: str
    requester_id: str = ""
    canary: str = ""  # the category of their tickets: not personal, so stored and published as it is

    @classmethod
    def random(cls) -> Customer:
        first, last = _word(9).capitalize(), _word(11).capitalize()
        return cls(first, last, f"{first.lower()}.{last.lower()}@{_word(8)}.example", canary=f"cat-{_word(12)}")

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    def needles(self) -> list[bytes]:
        """What must be nowhere: the name, its parts in any case, the address and its parts."""
        local, domain = self.address.split("@")
        words = {self.name, self.first, self.last, self.address, local, domain.split(".")[0]}
        return sorted({w.encode() for w in words} | {w.lower().encode() for w in words})


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    for name in ("routing", "sla", "analytics"):
        desk.env[f"SERVICEDESK_{name.upper()}_URL"] = desk.service(name).start().url
    intake = desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=20.0, headers=headers(TENANT)) as client:
        yield client


def known_to_the_channels(desk: Desk, customer: Customer) -> Customer:
    """The customer wrote in by e-mail once: the channels know them as a Person."""
    intake = desk_intake(desk.settings)
    try:
        requester_id = People(intake, intake.personal).requester_for(
            TENANT, "email", customer.address, customer.name, "en"
        )
    finally:
        intake.close()
    return Customer(customer.first, customer.last, customer.address, requester_id, customer.canary)


def twenty_tickets(client: httpx.Client, customer: Customer) -> list[str]:
    """Their tickets, every word about them; some resolved (and rated by them), one closed."""
    as_customer = headers(TENANT, customer.requester_id, ("customer",))
    ticket_ids = []
    for n in range(TICKETS):
        form = {"title": f"Printer of {customer.name} jams ({n})", "requester_id": customer.requester_id,
                "description": f"{customer.first} says: write to {customer.address}, call {customer.last}",
                "channel": "email", "category": customer.canary, "priority": f"P{1 + n % 4}"}  # fmt: skip
        opened = client.post("/v1/tickets", json=form)
        assert opened.status_code == 201, opened.text
        ticket_id = opened.json()["id"]
        ticket_ids.append(ticket_id)
        reply = {"body": f"Dear {customer.name}, we will call you at {customer.address}", "public": True}
        assert client.post(f"/v1/tickets/{ticket_id}/comments", json=reply).status_code == 201
        note = {"body": f"internal: {customer.last} is a VIP", "public": False}
        assert client.post(f"/v1/tickets/{ticket_id}/comments", json=note).status_code == 201
        answer = {"body": f"Thanks, {customer.first} here ({customer.address})", "public": True}
        assert client.post(f"/v1/tickets/{ticket_id}/comments", json=answer, headers=as_customer).status_code == 201
        if n % 3 == 0:
            resolution = {"reason": "fixed", "resolution": f"new toner for {customer.last}"}
            resolved = client.post(f"/v1/tickets/{ticket_id}/resolve", json=resolution)
            assert resolved.status_code == 200, resolved.text
            rating = {"score": 1 + n % 5, "comment": f"{customer.first} {customer.last} is happy"}
            rated = client.post(f"/v1/tickets/{ticket_id}/rating", json=rating, headers=as_customer)
            assert rated.status_code == 200, rated.text
        if n == 0:
            assert client.post(f"/v1/tickets/{ticket_id}/close", json={"reason": "done"}).status_code == 200
    return ticket_ids


def reports(client: httpx.Client) -> dict[str, Any]:
    return {name: client.get(f"/v1/reports/{name}").json() for name in REPORTS}


def settled_reports(client: httpx.Client) -> dict[str, Any]:
    """The reports once analytics has every ticket, rating and SLA start (the same twice in a row)."""
    seen: list[dict[str, Any]] = []

    def probe() -> dict[str, Any]:
        seen.append(reports(client))
        return seen[-1]

    return eventually(
        probe,
        lambda r: r["flow"]["opened"] == TICKETS and r["csat"].get("answered") == 7 and len(seen) > 1
        and seen[-2] == r,
        timeout=90, every=1.0,
    )  # fmt: skip


def postgres_files(desk: Desk) -> Path:
    """The cluster's data directory, after a CHECKPOINT wrote every dirty page to its file."""
    postgres = infra.postgres()
    with postgres.connect(desk.settings.postgres_dbname) as conn:
        conn.execute("CHECKPOINT")
        conn.execute("SELECT pg_switch_wal()")
        row = conn.execute("SHOW data_directory").fetchone()
    assert row is not None
    return Path(row[0])


def files_holding(folder: Path, needles: list[bytes]) -> list[str]:
    """Every file under `folder` that holds any of `needles` (grep: fixed strings, binary files too)."""
    patterns = [arg for needle in needles for arg in ("-e", needle.decode())]
    found = subprocess.run(["grep", "-rlaF", *patterns, str(folder)], capture_output=True, text=True, check=False)
    # A file the server removed while grep walked the folder (Kafka rolls and deletes index files,
    # PostgreSQL its temporary ones) is no file to search; any other trouble fails the test.
    troubles = [line for line in found.stderr.splitlines() if not line.endswith("No such file or directory")]
    assert found.returncode in (0, 1) or (found.returncode == 2 and not troubles), found.stderr
    return found.stdout.split()


def kafka_log_dirs(desk: Desk) -> list[Path]:
    """Where the broker keeps its log segments (its `log.dirs`, as it reports them)."""

    async def ask() -> list[Path]:
        admin = AIOKafkaAdminClient(bootstrap_servers=desk.settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            broker = (await admin.describe_cluster())["brokers"][0]["node_id"]
            (answer,) = await admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, str(broker))])
        finally:
            await admin.close()
        entries = {e["config_names"]: e["config_value"] for e in answer.to_object()["resources"][0]["config_entries"]}
        dirs = entries.get("log.dirs") or entries.get("log.dir") or ""
        return [Path(d) for d in dirs.split(",") if d]

    return asyncio.run(ask())


def kafka_records_holding(desk: Desk, needles: list[bytes]) -> tuple[int, list[str]]:
    """How many records the desk's topics (and dead-letter twins) hold, and those that hold a needle."""

    async def partitions() -> list[TopicPartition]:
        names = [desk.settings.kafka_name(t) for t in PUBLIC_TOPICS]
        admin = AIOKafkaAdminClient(bootstrap_servers=desk.settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            present = set(await admin.list_topics())
            described = await admin.describe_topics([n for n in names + [f"{n}.dlq" for n in names] if n in present])
        finally:
            await admin.close()
        return [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]

    async def read() -> tuple[int, list[str]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=desk.settings.kafka_bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        try:
            assigned = await partitions()
            assert assigned, "the desk's topics have partitions"
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            ends = await consumer.end_offsets(assigned)
            count, hits = 0, []
            for partition in assigned:
                while await consumer.position(partition) < ends[partition]:
                    batch = await consumer.getmany(partition, timeout_ms=2000)
                    for record in batch.get(partition, []):
                        count += 1
                        raw = b"".join([record.key or b"", record.value or b"", *(v for _, v in record.headers)])
                        if any(needle in raw for needle in needles):
                            hits.append(f"{record.topic}:{record.partition}@{record.offset}")
            return count, hits
        finally:
            await consumer.stop()

    return asyncio.run(read())


def assert_no_trace(desk: Desk, customer: Customer, when: str) -> None:
    """Neither PostgreSQL's files nor Kafka's records and segments hold the customer, while the same
    searches do find the canary (their tickets' category) written in the same requests."""
    needles, canary = customer.needles(), [customer.canary.encode()]
    data_directory = postgres_files(desk)
    assert files_holding(data_directory, needles) == [], f"{when}: PostgreSQL files hold the customer"
    assert files_holding(data_directory, canary), f"{when}: the search of {data_directory} finds nothing at all"
    count, hits = kafka_records_holding(desk, needles)
    assert count >= TICKETS * 4, f"{when}: the desk's topics hold only {count} records"
    assert hits == [], f"{when}: Kafka records hold the customer"
    assert kafka_records_holding(desk, canary)[1], f"{when}: the records' search finds nothing at all"
    log_dirs = kafka_log_dirs(desk)
    segments = [folder for log_dir in log_dirs for folder in log_dir.glob(f"{desk.settings.kafka_namespace}*")]
    assert segments, f"{when}: no segment folders of the desk's topics under {log_dirs}"
    for log_dir in log_dirs:
        assert files_holding(log_dir, needles) == [], f"{when}: Kafka's segment files hold the customer"
    assert any(files_holding(folder, canary) for folder in segments), f"{when}: the segments' search finds nothing"
    print(f"{when}: no trace of {len(needles)} needles in {data_directory} (with pg_wal), {count} Kafka records"
          f" of {desk.settings.kafka_namespace}*, the segment files under {[str(d) for d in log_dirs]}")  # fmt: skip


def test_a_customer_with_twenty_tickets_is_erased_and_the_history_and_reports_stay_whole(
    desk: Desk, gateway: httpx.Client
) -> None:
    customer = known_to_the_channels(desk, Customer.random())
    ticket_ids = twenty_tickets(gateway, customer)
    first = gateway.get(f"/v1/tickets/{ticket_ids[1]}").json()
    assert (first["title"], first["comments"][0]["body"]) == (
        f"Printer of {customer.name} jams (1)", f"Dear {customer.name}, we will call you at {customer.address}",
    )  # fmt: skip
    eventually(lambda: gateway.get("/v1/tickets/search", params={"q": customer.last}).json()["tickets"],
               lambda hits: len(hits) == TICKETS, timeout=30)  # fmt: skip
    export = gateway.get(f"/v1/people/{customer.requester_id}/export").json()
    assert export["profile"]["address"] == customer.address
    assert len(export["tickets"]) == TICKETS
    before = settled_reports(gateway)
    as_of = gateway.get(f"/v1/tickets/{ticket_ids[0]}").json()["updated_at"]
    assert_no_trace(desk, customer, "before the erasure")

    erased = gateway.post(f"/v1/people/{customer.requester_id}/erasure", json={"reason": "GDPR art. 17, #4711"})
    assert erased.status_code == 200, erased.text
    assert erased.json()["tickets"] == TICKETS
    assert erased.json()["completed_at"] is not None

    for ticket_id in ticket_ids:
        assert gateway.get(f"/v1/tickets/{ticket_id}/verify").json()["intact"] is True
        ticket = gateway.get(f"/v1/tickets/{ticket_id}").json()
        assert (ticket["title"], ticket["description"]) == (ERASED, ERASED)
        assert {c["body"] for c in ticket["comments"]} == {ERASED}
        history = gateway.get(f"/v1/tickets/{ticket_id}/history").json()["events"]
        assert history[0]["changes"]["title"] == ERASED
    past = gateway.get(f"/v1/tickets/{ticket_ids[0]}", params={"as_of": as_of}).json()
    assert (past["status"], past["title"], past["rating"]["comment"]) == ("closed", ERASED, ERASED)
    assert gateway.get("/v1/audit/verify").json()["intact"] is True
    assert gateway.get("/v1/tickets/search", params={"q": customer.last}).json()["tickets"] == []
    audit = gateway.get("/v1/audit/erasures").json()["erasures"]
    assert [(e["requester_id"], e["reason"]) for e in audit] == [(customer.requester_id, "GDPR art. 17, #4711")]
    export = gateway.get(f"/v1/people/{customer.requester_id}/export").json()
    assert (export["erased"], export["profile"]["erased"], export["profile"]["address"]) == (True, True, ERASED)
    assert len(export["tickets"]) == TICKETS
    again = gateway.post("/v1/tickets", json={"title": "hello again", "requester_id": customer.requester_id})
    assert (again.status_code, again.json()["rule"]) == (410, "erasure")
    assert reports(gateway) == before, "the reports give the same figures"
    assert_no_trace(desk, customer, "after the erasure")
