"""A database administrator who drops the append-only trigger can cut, rewrite or delete a stream;
the desk's seals (a key the database does not hold) and its signed checkpoints still tell, on real
PostgreSQL, and every checkpoint also goes out on Kafka."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID, uuid4

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer
from eventsourcing import domain

from schemas.envelope import Envelope
from schemas.topics import CHECKPOINTS
from services.chassis.storage.append_only import protect
from services.intake.audit import chain
from services.intake.audit.chain import BrokenLink
from services.intake.audit.checkpoints import Checkpoints
from services.intake.tickets.application import Intake
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


CHECKPOINTS_STREAM = str(Checkpoints.create_id())


def newest_checkpoint_naming(intake: Intake, stream_id: str) -> tuple[int, Json]:
    """The version and decoded state of the newest checkpoint that names `stream_id`."""
    for stored in intake.recorder.select_events(Checkpoints.create_id(), desc=True):
        state: Json = intake.mapper.decoded(stored)  # type: ignore[attr-defined]
        if stream_id in state.get("heads", {}):
            return stored.originator_version, state
    raise AssertionError(f"no checkpoint names {stream_id}")


def rewrite_checkpoint(db: psycopg.Connection[Any], intake: Intake, version: int, state: Json) -> None:
    db.execute(
        "UPDATE intake_events SET state = %s WHERE originator_id = %s AND originator_version = %s",
        (intake.mapper.transcoder.encode(state), CHECKPOINTS_STREAM, version),
    )


def cut_and_cover(desk: Desk, postgres: Postgres, ticket: Json) -> int:
    """A DBA deletes the ticket's last event (version 3) and edits the newest checkpoint naming it to
    say version 2, with version 2's content digest; the checkpoint's version."""
    intake = desk_intake(desk.settings)
    second = intake.recorder.select_events(UUID(ticket["id"]))[1]
    digest = chain.content_digest(second.originator_id, 2, second.topic, intake.mapper.decoded(second))  # type: ignore[attr-defined]
    version, state = newest_checkpoint_naming(intake, ticket["id"])
    state["heads"][ticket["id"]] = [2, digest, "acme"]
    with as_a_dba(desk, postgres) as db:
        db.execute("DELETE FROM intake_events WHERE originator_id = %s AND originator_version = 3", (ticket["id"],))
        rewrite_checkpoint(db, intake, version, state)
    return version


def test_a_checkpoint_edited_to_cover_a_ticket_cut_short_is_named_forged(desk: Desk, postgres: Postgres) -> None:
    api = httpx.Client(base_url=desk.service("intake", "api").start().url, headers=headers("acme"))
    ticket = a_worked_ticket(api, changes=2)  # versions 1..3
    api.post("/v1/audit/checkpoints")
    a_worked_ticket(api)
    api.post("/v1/audit/checkpoints")  # a newer checkpoint that does not name the ticket

    version = cut_and_cover(desk, postgres, ticket)

    report = api.get(f"/v1/tickets/{ticket['id']}/verify").json()
    assert report["intact"] is False
    forged = {"ticket_id": CHECKPOINTS_STREAM, "version": version,
              "reason": "the checkpoint's seal is not the desk's: it was forged or altered"}  # fmt: skip
    assert report["broken_at"] == forged


def test_a_tenants_verify_names_a_forged_checkpoint_without_naming_other_tenants_streams(
    desk: Desk, postgres: Postgres
) -> None:
    api = httpx.Client(base_url=desk.service("intake", "api").start().url, headers=headers("acme"))
    other = httpx.Client(base_url=api.base_url, headers=headers("globex"))
    ticket, theirs = a_worked_ticket(api, changes=2), a_worked_ticket(other)
    api.post("/v1/audit/checkpoints")

    version = cut_and_cover(desk, postgres, ticket)

    reply = api.get("/v1/audit/verify")
    report = reply.json()
    assert report["intact"] is False
    assert {"ticket_id": CHECKPOINTS_STREAM, "version": version} in [
        {k: p[k] for k in ("ticket_id", "version")} for p in report["problems"]
    ]
    assert theirs["id"] not in reply.text
    assert other.get("/v1/audit/verify").json()["broken_at"]["ticket_id"] == CHECKPOINTS_STREAM


def an_unsealed_copy(desk: Desk, postgres: Postgres, ticket: Json) -> str:
    """A DBA stores a copy of the ticket under a new id, without seals, its hash chain recomputed;
    the copy's id."""
    intake = desk_intake(desk.settings)
    copy = uuid4()
    stored = list(intake.recorder.select_events(UUID(ticket["id"])))
    previous = chain.GENESIS
    with as_a_dba(desk, postgres) as db:
        for event in stored:
            state = intake.mapper.decoded(event)  # type: ignore[attr-defined]
            state.pop(chain.SEAL)
            state["metadata"][chain.PREVIOUS] = previous
            identity = {"originator_id": copy, "originator_version": event.originator_version}
            state[chain.HASH] = previous = chain.digest(event.topic, state | identity)
            db.execute(
                "INSERT INTO intake_events (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
                (copy, event.originator_version, event.topic, intake.mapper.transcoder.encode(state)),
            )
    return str(copy)


def delete_every_checkpoint(desk: Desk, postgres: Postgres) -> None:
    with as_a_dba(desk, postgres) as db:
        db.execute("DELETE FROM intake_events WHERE originator_id = %s", (CHECKPOINTS_STREAM,))
        db.execute("DELETE FROM intake_snapshots WHERE originator_id = %s", (CHECKPOINTS_STREAM,))


def test_an_unsealed_ticket_added_after_every_checkpoint_was_deleted_is_caught(desk: Desk, postgres: Postgres) -> None:
    api = httpx.Client(base_url=desk.service("intake", "api").start().url, headers=headers("acme"))
    ticket = a_worked_ticket(api, changes=1)
    api.post("/v1/audit/checkpoints")

    delete_every_checkpoint(desk, postgres)
    copy = an_unsealed_copy(desk, postgres, ticket)

    unsealed = {"ticket_id": copy, "version": 1, "reason": "the event carries no seal: it was not stored by the desk"}
    assert api.get(f"/v1/tickets/{copy}/verify").json()["broken_at"] == unsealed
    assert unsealed in api.get("/v1/audit/verify").json()["problems"]
    assert api.get(f"/v1/tickets/{ticket['id']}/verify").json()["intact"] is True


def test_a_desk_whose_checkpoints_were_all_deleted_names_them_missing(desk: Desk, postgres: Postgres) -> None:
    desk.env["SERVICEDESK_AUDIT_CHECKPOINT_SECONDS"] = "1"
    api = httpx.Client(base_url=desk.service("intake", "api").start().url, headers=headers("acme"))
    ticket = a_worked_ticket(api, changes=1)
    api.post("/v1/audit/checkpoints")
    assert api.get("/v1/audit/verify").json()["intact"] is True

    delete_every_checkpoint(desk, postgres)
    time.sleep(2.5)  # more than two checkpoint intervals since the first sealed event

    report = api.get("/v1/audit/verify").json()
    assert report["checkpoint"] is None
    assert report["broken_at"]["ticket_id"] == CHECKPOINTS_STREAM
    assert report["broken_at"]["reason"].startswith("checkpoints missing")
    assert api.get(f"/v1/tickets/{ticket['id']}/verify").json()["broken_at"] == report["broken_at"]


class Noted(domain.Aggregate):
    """A stream whose events name no tenant (as reply routes' do)."""

    @domain.event("Noted")
    def __init__(self, note: str) -> None:
        self.note = note


def test_a_stream_that_names_no_tenant_is_verified_store_wide(desk: Desk, postgres: Postgres) -> None:
    intake = desk_intake(desk.settings)
    protect(intake)  # as the desk's processes do
    noted = Noted("kept for the routes")
    intake.save(noted)
    intake.audit.checkpoint()
    assert intake.verify().broken is None

    with as_a_dba(desk, postgres) as db:
        db.execute(
            "UPDATE intake_events SET state = convert_to(replace(convert_from(state, 'UTF8'), 'kept', 'lost'), 'UTF8')"
            " WHERE originator_id = %s", (noted.id,),
        )  # fmt: skip

    problems = intake.verify().problems
    assert problems == [
        BrokenLink(str(noted.id), 1, "the event differs from the one a checkpoint recorded (rewritten)")
    ]
    assert intake.verify(tenant="acme").broken is None, "a tenant's verify covers the events that name it"
