"""A full disk under the data directory, on the embedded default (SQLite stores): while no byte is
left, the gateway refuses writes with 503 and Retry-After and still answers reads; once space returns,
writes go through again without a restart, and nothing is lost, doubled or corrupted: every ticket
acknowledged is there and on the topic once, and the stores pass SQLite's integrity check.

The data directory is a small tmpfs of its own (mounting one needs root, as the tests run here)."""

from __future__ import annotations

import errno
import functools
import sqlite3
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from schemas.topics import TICKETS
from services.chassis.messaging.topic_history import TopicHistory
from tests.client import eventually, headers, ticket_form
from tests.harness import Desk

TENANT = "acme"
SIZE = "48m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """The desk's data directory (tests/harness.py: `tmp/data`) on a tmpfs of `SIZE`."""
    data = tmp_path / "data"
    data.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(data)], check=True)
    try:
        yield data
    finally:
        subprocess.run(["umount", "--lazy", str(data)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of `disk` with one file; its path."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        for chunk in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    out.write(b"\0" * chunk)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
    return filler


def open_ticket(client: httpx.Client, key: str) -> httpx.Response:
    who = headers(TENANT) | {"Idempotency-Key": key}
    return client.post("/v1/tickets", json=ticket_form(requester_id=f"customer-{key[:8]}"), headers=who)


def test_a_full_disk_refuses_writes_with_503_and_the_desk_goes_on_when_space_returns(
    small_disk: Path, sqlite_desk: Desk
) -> None:
    with sqlite_desk.gateway() as client:
        acknowledged: dict[str, str] = {}  # idempotency key -> ticket id
        for _ in range(10):
            key = str(uuid.uuid4())
            reply = open_ticket(client, key)
            assert reply.status_code == 201, reply.text
            acknowledged[key] = reply.json()["id"]

        filler = fill(small_disk)
        refused: list[str] = []
        for _ in range(10):
            key = str(uuid.uuid4())
            reply = open_ticket(client, key)
            if reply.status_code == 201:  # a page SQLite had free still took it
                acknowledged[key] = reply.json()["id"]
                continue
            assert reply.status_code == 503, reply.text
            assert reply.headers["content-type"].startswith("application/problem+json")
            assert reply.headers["retry-after"]
            refused.append(key)
        assert refused, "the full disk refused no write"
        some = next(iter(acknowledged.values()))
        assert client.get(f"/v1/tickets/{some}", headers=headers(TENANT)).status_code == 200, "reads still answer"

        filler.unlink()
        for key in refused:  # the client retries, as Retry-After asks, with the same key
            retried = functools.partial(open_ticket, client, key)
            reply = eventually(retried, lambda r: r.status_code == 201, timeout=30)
            acknowledged[key] = reply.json()["id"]
        for _ in range(5):
            key = str(uuid.uuid4())
            reply = open_ticket(client, key)
            assert reply.status_code == 201, reply.text
            acknowledged[key] = reply.json()["id"]

        for ticket_id in acknowledged.values():
            assert client.get(f"/v1/tickets/{ticket_id}", headers=headers(TENANT)).status_code == 200
        topic = sqlite_desk.settings.kafka_name(TICKETS)

        def opened_on_topic() -> Counter[str]:
            pages = TopicHistory(sqlite_desk.settings.kafka_bootstrap_servers, [topic]).pages()
            return Counter(str(e.subject) for page in pages for e in page if e.type == "ticket.opened")

        published = eventually(opened_on_topic, lambda found: set(acknowledged.values()) <= set(found), timeout=60)
        assert set(published) == set(acknowledged.values()), "a ticket refused was published"
        assert max(published.values()) == 1, "a ticket was published twice"
        intake = sqlite_desk.services[-1]
        assert intake.process is not None
        assert intake.process.poll() is None, f"intake exited\n{intake.log_tail()}"

    stores = list(small_disk.rglob("*.db"))
    assert stores
    for store in stores:
        with sqlite3.connect(store) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",), store
