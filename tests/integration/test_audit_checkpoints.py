"""A database administrator who drops the append-only trigger can cut, rewrite or delete a stream;
the desk's seals (a key the database does not hold) and its signed checkpoints still tell, on real
PostgreSQL, and every checkpoint also goes out on Kafka."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer

from schemas.envelope import Envelope
from schemas.topics import CHECKPOINTS
from services.intake.audit import chain
from tests.client import headers, ticket_form
from tests.harness import Desk
from tests.infra import Postgres
from tests.privacy import desk_intake

Json = dict[str, Any]


def a_worked_ticket(api: httpx.Client, changes: int = 2) -> Json:
    ticket: Json = api.post("/v1/tickets", json=ticket_form(category="refund-100")).json()
    for n in range(changes):
        reply = api.patch(f"/v1/tickets/{ticket['id']}", json={"tags_add": [f"t{n}"], "reason": f"change {n}"})
        assert reply.status_code == 200, reply.text
    return ticket


def as_a_dba(desk: Desk, postgres: Postgres) -> psycopg.Connection[Any]:
    db = postgres.connect(desk.settings.postgres_dbname)
    db.execute("ALTER TABLE intake_events DISABLE TRIGGER intake_events_append_only")
    return db


def test_a_clean_desk_verifies_intact_against_its_newest_checkpoint(desk: Desk) -> None:
    api = httpx.Client(base_url=desk.service("intake", "api").start().url, headers=headers("acme"))
    ticket = a_worked_ticket(api)

    checkpoint = api.post("/v1/audit/checkpoints").json()

    assert checkpoint["sequence"] >= 2
    assert checkpoint["position"] >= 3
    report = api.get("/v1/audit/verify").json()
    assert (report["intact"], report["problems"], report["checkpoint"]) == (True, [], checkpoint)
    assert api.get(f"/v1/tickets/{ticket['id']}/verify").json()["intact"] is True
    assert api.post("/v1/audit/checkpoints").json() == checkpoint, "nothing changed: no second checkpoint"


def test_the_last_events_cut_from_a_ticket_are_named_missing(desk: Desk, postgres: Postgres) -> None:
    api = httpx.Client(base_url=desk.service("intake", "api").start().url, headers=headers("acme"))
    ticket = a_worked_ticket(api, changes=2)  # versions 1..3
    api.post("/v1/audit/checkpoints")

    with as_a_dba(desk, postgres) as db:
        db.execute("DELETE FROM intake_events WHERE originator_id = %s AND originator_version >= 2", (ticket["id"],))

    report = api.get(f"/v1/tickets/{ticket['id']}/verify").json()
    assert report["intact"] is False
    assert report["broken_at"]["version"] == 2
    assert report["broken_at"]["reason"].startswith("version 2 is missing")
    store = api.get("/v1/audit/verify").json()
    assert {"ticket_id": ticket["id"], "version": 2} in [{k: p[k] for k in ("ticket_id", "version")}
                                                         for p in store["problems"]]  # fmt: skip


def test_an_event_rewritten_with_its_plain_hashes_recomputed_is_caught(desk: Desk, postgres: Postgres) -> None:
    api = httpx.Client(base_url=desk.service("intake", "api").start().url, headers=headers("acme"))
    ticket = a_worked_ticket(api, changes=1)  # versions 1..2, no checkpoint yet: the seals alone tell
    intake = desk_intake(desk.settings)  # what a DBA can run: the code is public, the secret is not
    stored = list(intake.recorder.select_events(UUID(ticket["id"])))
    states = [intake.mapper.decoded(s) for s in stored]  # type: ignore[attr-defined]
    states[0]["category"] = "refund-900"
    previous = chain.GENESIS
    for event, state in zip(stored, states, strict=True):
        state["metadata"][chain.PREVIOUS] = previous
        identity = {"originator_id": event.originator_id, "originator_version": event.originator_version}
        state[chain.HASH] = previous = chain.digest(event.topic, state | identity)

    with as_a_dba(desk, postgres) as db:
        for event, state in zip(stored, states, strict=True):
            db.execute(
                "UPDATE intake_events SET state = %s WHERE originator_id = %s AND originator_version = %s",
                (intake.mapper.transcoder.encode(state), ticket["id"], event.originator_version),
            )

    report = api.get(f"/v1/tickets/{ticket['id']}/verify").json()
    assert report["intact"] is False
    assert (report["broken_at"]["version"], report["broken_at"]["reason"]) == (1, "the event's seal is not the desk's")
    assert api.get("/v1/audit/verify").json()["broken_at"]["ticket_id"] == ticket["id"]


def test_a_ticket_deleted_whole_is_named_missing(desk: Desk, postgres: Postgres) -> None:
    api = httpx.Client(base_url=desk.service("intake", "api").start().url, headers=headers("acme"))
    kept, deleted = a_worked_ticket(api), a_worked_ticket(api)
    api.post("/v1/audit/checkpoints")

    with as_a_dba(desk, postgres) as db:
        db.execute("DELETE FROM intake_events WHERE originator_id = %s", (deleted["id"],))
        db.execute("DELETE FROM intake_snapshots WHERE originator_id = %s", (deleted["id"],))

    report = api.get("/v1/audit/verify").json()
    assert report["intact"] is False
    named = {p["ticket_id"]: p for p in report["problems"]}
    assert kept["id"] not in named
    assert named[deleted["id"]]["version"] == 1
    assert named[deleted["id"]]["reason"].startswith("the stream is missing")


def test_an_event_added_behind_the_desks_back_after_the_checkpoint_is_caught(desk: Desk, postgres: Postgres) -> None:
    api = httpx.Client(base_url=desk.service("intake", "api").start().url, headers=headers("acme"))
    ticket = a_worked_ticket(api, changes=1)
    api.post("/v1/audit/checkpoints")
    intake = desk_intake(desk.settings)
    last = intake.recorder.select_events(UUID(ticket["id"]))[-1]
    forged = intake.mapper.decoded(last)  # type: ignore[attr-defined]
    forged.pop(chain.SEAL)

    with as_a_dba(desk, postgres) as db:
        db.execute(
            "INSERT INTO intake_events (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
            (ticket["id"], last.originator_version + 1, last.topic, intake.mapper.transcoder.encode(forged)),
        )

    report = api.get(f"/v1/tickets/{ticket['id']}/verify").json()
    assert report["broken_at"]["version"] == last.originator_version + 1
    assert report["broken_at"]["reason"] in {
        "previous_hash does not match the event before", "the event carries no seal: it was not stored by the desk"
    }  # fmt: skip


def test_every_checkpoint_goes_out_on_its_own_topic_signed(desk: Desk) -> None:
    desk.service("intake", "relay").start()
    api = httpx.Client(base_url=desk.service("intake", "api").start().url, headers=headers("acme"))
    ticket = a_worked_ticket(api, changes=1)
    api.post("/v1/audit/checkpoints")  # the relay's own round may come first: either records it
    topic = desk.settings.kafka_name(CHECKPOINTS)

    published = asyncio.run(checkpoint_naming(desk.settings.kafka_bootstrap_servers, topic, ticket["id"], 2))

    assert (published.type, published.version, published.source) == ("audit.checkpointed", 1, "intake")
    assert {"stream_id": ticket["id"], "version": 2, "tenant": "acme"}.items() <= next(
        head for head in published.data["heads"] if head["stream_id"] == ticket["id"]
    ).items()
    assert len(published.data["signature"]) == 64


async def checkpoint_naming(bootstrap: str, topic: str, stream_id: str, version: int) -> Envelope:
    """The first checkpoint on `topic` that records `stream_id` at `version`."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        while True:
            batches = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), timeout=60)
            for record in (r for records in batches.values() for r in records):
                envelope = Envelope.from_kafka(record.value, record.headers)
                if any(h["stream_id"] == stream_id and h["version"] == version for h in envelope.data["heads"]):
                    return envelope
    finally:
        await consumer.stop()
