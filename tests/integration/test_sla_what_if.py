"""SLA's what-if on real Kafka and PostgreSQL: a month of tickets goes through the live SLA service, which
records real warnings and breaches; replaying the month under the policy in force reproduces every one of
them, a tighter first response target reports exactly the breaches it adds, and the live desk records
nothing while the what-if runs.

The month is published within seconds with instants spread over the past 30 days. A scheduler running
meanwhile would fire a clock "now", between one ticket's events (a resolution breached before the resolve
it has not read yet), which a desk living through the month never does: the scheduler starts once the
consumer has read the month, as one catching up after an outage, and records the rest at their instants."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.topics import SLA_CLOCKS, TICKETS
from services.chassis.domain.calendar import BusinessCalendar
from services.chassis.storage.store import store_env
from services.sla.application import Sla
from tests.client import eventually, headers, what_if_job
from tests.harness import Desk
from tests.infra import ROOT
from tests.sla_history import BERLIN_HOURS, URGENT, Month, publish, standard
from tests.sla_load import _count

TENANT = "acme"
TICKETS_IN_MONTH = 150


def put(url: str, path: str, body: dict[str, Any]) -> None:
    reply = httpx.put(f"{url}{path}", headers=headers(TENANT), json=body, timeout=30)
    assert reply.status_code == 200, reply.text


def settled(probe: Callable[[], int | None], quiet: float = 10.0) -> int:
    """`probe`'s answer once it has not changed for `quiet` seconds."""
    last, since = probe(), time.monotonic()
    deadline = since + 300
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, "never settled"
        time.sleep(1.0)
        if (now := probe()) != last:
            last, since = now, time.monotonic()
    return last or 0


def end_offsets(bootstrap: str, topics: list[str]) -> dict[str, int]:
    """Each partition's end offset: what has been published on `topics` so far."""

    async def read() -> dict[str, int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            present = set(await admin.list_topics())
            described = await admin.describe_topics([t for t in topics if t in present])
        finally:
            await admin.close()
        partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            return {f"{tp.topic}/{tp.partition}": offset for tp, offset in ends.items()}
        finally:
            await consumer.stop()

    return asyncio.run(read())


def what_if(desk: Desk, tmp_path: Path, candidate: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "candidate.json"
    path.write_text(json.dumps(candidate))
    command = [sys.executable, "-m", "services.sla", "what-if", "--tenant", TENANT, "--days", "31",
               "--candidate", str(path)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=desk.env, capture_output=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_replaying_a_month_under_the_live_policy_reproduces_every_warning_and_breach(
    desk: Desk, tmp_path: Path
) -> None:
    api = desk.service("sla", "api").start()
    put(api.url, "/v1/sla/calendars/berlin", BERLIN_HOURS)
    put(api.url, "/v1/sla/policies/urgent", URGENT)
    put(api.url, "/v1/sla/policies/standard", standard("PT4H"))
    for role in ("consumer", "relay"):
        desk.service("sla", role).start()
    now = datetime.now(UTC)
    month = Month.of(TENANT, TICKETS_IN_MONTH, now - timedelta(days=30), days=25)
    bootstrap = desk.settings.kafka_bootstrap_servers
    asyncio.run(publish(bootstrap, desk.settings.kafka_name(TICKETS), month.envelopes))
    store = Sla(env=store_env(desk.settings, Sla.name))
    answered = sum(1 for t in month.tickets if t.answered is not None)
    resolved = sum(1 for e in month.envelopes if e.data.get("status") == "resolved")
    eventually(lambda: _count(store, "MetricMet"), lambda n: n >= answered + resolved, timeout=300, every=2.0)
    settled(lambda: store.recorder.max_notification_id())  # the consumer has read the month
    desk.service("sla", "scheduler").start()
    unanswered = len(month.tickets) - answered
    eventually(lambda: _count(store, "Breached"), lambda n: n >= 2 * unanswered, timeout=300, every=2.0)
    recorded = settled(lambda: _count(store, "Warned", "Breached"))
    topics = [desk.settings.kafka_name(TICKETS), desk.settings.kafka_name(SLA_CLOCKS)]
    eventually(lambda: sum(end_offsets(bootstrap, topics[1:]).values()), lambda n: n >= recorded, timeout=120)
    live_before = (store.recorder.max_notification_id(), end_offsets(bootstrap, topics))

    report = what_if(desk, tmp_path, {"policies": [{"policy_id": "standard"} | standard("PT1H")]})

    history = report["reproduces_history"]
    print(f"{recorded} warnings and breaches recorded; replay differed on {history['differed']};"
          f" a 1 h first response adds {report['breaches']['added']} breaches")  # fmt: skip
    assert history["tickets"] == TICKETS_IN_MONTH
    assert history["checked"] == recorded, history
    assert history["differed"] == 0, history["examples"]
    hours = BusinessCalendar.from_spec(BERLIN_HOURS)
    late_by_the_hour = {
        t.number
        for t in month.tickets
        if t.priority != "P1" and t.answered and 3600 <= hours.business_seconds(t.opened, t.answered) < 4 * 3600
    }
    breaches = report["breaches"]
    assert breaches["added"] == breaches["by_target"]["first_response"]["added"] == len(late_by_the_hour) > 0
    assert breaches["avoided"] == 0
    assert breaches.get("by_priority", {}).get("P1", {}).get("added", 0) == 0
    assert {e["number"] for e in breaches["examples"]["added"]} <= late_by_the_hour
    example = breaches["examples"]["added"][0]
    assert example["breached_before"] is None
    assert example["due_after"] <= example["answered_at"] < example["due_before"]
    assert report["warnings"]["added"] > 0
    assert (store.recorder.max_notification_id(), end_offsets(bootstrap, topics)) == live_before, "the desk moved"

    by_job = through_the_gateway(desk, {"policies": [{"policy_id": "standard"} | standard("PT1H")]})
    assert (by_job["breaches"]["added"], by_job["reproduces_history"]["differed"]) == (breaches["added"], 0)
    assert (store.recorder.max_notification_id(), end_offsets(bootstrap, topics)) == live_before, "the desk moved"


def through_the_gateway(desk: Desk, candidate: dict[str, Any]) -> dict[str, Any]:
    """The same what-if as an admin's job at the gateway (`kind: sla`); a policy naming a calendar the tenant
    lacks is refused before any job starts, naming the field. The job's report."""
    admin = headers(TENANT, "admin-1", ("admin",))
    gateway = desk.service("intake", "api").start()  # behind it, the SLA service the month ran on
    with httpx.Client(base_url=gateway.url, timeout=10.0) as client:
        mars = {"policies": [{"policy_id": "standard"} | standard() | {"calendar": "mars"}]}
        refused = client.post("/v1/what-if", json={"kind": "sla", "days": 31, "candidate": mars}, headers=admin)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "candidate.policies.0.calendar", refused.json()
        job = what_if_job(client, admin, {"kind": "sla", "days": 31, "candidate": candidate}, timeout=300)
    report: dict[str, Any] = job["report"]
    return report
