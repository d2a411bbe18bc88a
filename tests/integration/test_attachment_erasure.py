"""Files and erasure on real PostgreSQL and Kafka, intake running as its own process: erasing one
customer deletes their files only, and a file whose bytes are gone is a problem, not a server error."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.client import headers, ticket_form
from tests.harness import Desk

INVOICE = b"%PDF-1.4 the supplier's invoice no. 4711, forwarded by two customers\n" * 40


@pytest.fixture
def intake(desk: Desk) -> str:
    for name in ("routing", "sla", "analytics"):
        desk.env[f"SERVICEDESK_{name.upper()}_URL"] = desk.service(name).start().url
    return desk.service("intake").start().url


def attached(client: httpx.Client, tenant: str, customer: str, content: bytes) -> str:
    """A ticket of `customer` with `content` attached; the attachment's address."""
    opened = client.post("/v1/tickets", json=ticket_form(requester_id=customer), headers=headers(tenant))
    assert opened.status_code == 201, opened.text
    reply = client.post(
        f"/v1/tickets/{opened.json()['id']}/attachments", params={"filename": "invoice.pdf"}, content=content,
        headers=headers(tenant) | {"Content-Type": "application/pdf"},
    )  # fmt: skip
    assert reply.status_code == 201, reply.text
    location: str = reply.headers["location"]
    return location


def copies_of(desk: Desk, sha256: str) -> list[Path]:
    return list((desk.settings.data_dir / "blobs").rglob(sha256))


def test_erasing_one_customer_leaves_another_tenants_identical_file_downloadable(desk: Desk, intake: str) -> None:
    acme_customer, globex_customer = f"c-{uuid.uuid4().hex[:10]}", f"c-{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=intake, timeout=20.0) as client:
        acme_file = attached(client, "acme", acme_customer, INVOICE)
        globex_file = attached(client, "globex", globex_customer, INVOICE)
        erased = client.post(f"/v1/people/{acme_customer}/erasure", json={"reason": "GDPR art. 17"},
                             headers=headers("acme"))  # fmt: skip
        assert erased.status_code == 200, erased.text

        theirs = client.get(globex_file, headers=headers("globex"))
        assert (theirs.status_code, theirs.content) == (200, INVOICE)
        gone = client.get(acme_file, headers=headers("acme"))
    assert (gone.status_code, gone.headers["content-type"]) == (410, "application/problem+json")
    assert INVOICE not in gone.content
    sha256 = hashlib.sha256(INVOICE).hexdigest()
    assert [path.read_bytes() for path in copies_of(desk, sha256)] == [INVOICE], "only the other customer's copy"


def test_a_missing_file_is_a_problem_not_a_server_error(desk: Desk, intake: str) -> None:
    customer = f"c-{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=intake, timeout=20.0) as client:
        location = attached(client, "acme", customer, INVOICE)
        sha256 = client.get(location.rsplit("/", 1)[0], headers=headers("acme")).json()["attachments"][0]["sha256"]
        stored = copies_of(desk, sha256)
        assert len(stored) == 1
        stored[0].unlink()  # lost: a restore without the blobs, an operator's mistake
        reply = client.get(location, headers=headers("acme"))
    assert (reply.status_code, reply.headers["content-type"]) == (404, "application/problem+json")
    assert reply.json()["reason"] == "missing"


def test_a_file_still_uploading_when_its_customer_is_erased_is_refused_and_not_kept(desk: Desk, intake: str) -> None:
    customer = f"c-{uuid.uuid4().hex[:10]}"
    passport = b"a scan of the customer's passport, uploaded slowly\n" * 4000
    streaming, erased = threading.Event(), threading.Event()

    def body() -> Iterator[bytes]:
        yield passport[:1000]
        streaming.set()
        assert erased.wait(30)
        yield passport[1000:]

    with httpx.Client(base_url=intake, timeout=60.0) as client:
        opened = client.post("/v1/tickets", json=ticket_form(requester_id=customer), headers=headers("acme"))
        assert opened.status_code == 201, opened.text
        with ThreadPoolExecutor(1) as pool:
            upload = pool.submit(
                client.post, f"/v1/tickets/{opened.json()['id']}/attachments", params={"filename": "passport.pdf"},
                content=body(), headers=headers("acme") | {"Content-Type": "application/pdf"},
            )  # fmt: skip
            assert streaming.wait(30)
            time.sleep(1.0)  # the gateway has found the ticket's requester and streams the file
            erasure = client.post(f"/v1/people/{customer}/erasure", json={"reason": "GDPR art. 17"},
                                  headers=headers("acme"))  # fmt: skip
            assert erasure.status_code == 200, erasure.text
            erased.set()
            refused = upload.result(timeout=60)
    assert (refused.status_code, refused.headers["content-type"]) == (410, "application/problem+json"), refused.text
    assert copies_of(desk, hashlib.sha256(passport).hexdigest()) == [], "none of the erased customer's bytes"
