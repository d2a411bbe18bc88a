"""Attachments, in memory and on a temp folder: files kept once by their hash, tickets keep the hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.intake.attachments.blob_store import BlobCorruptError, BlobNotFoundError, BlobTooLargeError, Owner
from services.intake.attachments.blobs import FileBlobStore
from services.intake.http import problems
from services.intake.http.attachments import router
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.domain import Ticket
from services.intake.tickets.form import TicketForm
from tests.client import headers
from tests.privacy import memory_intake
from tests.tokens import authenticated

LOG = b"2024-05-01 09:00:01 vpn: tunnel down (peer timeout)\n" * 200
LIMIT = 64 * 1024
CUSTOMER = Owner("acme", "customer-42")


@dataclass
class Desk:
    intake: Intake
    blobs: FileBlobStore
    api: TestClient

    def open_ticket(self, tenant: str = "acme") -> UUID:
        form = TicketForm("VPN drops", "", "customer-42", "email", "network", "incident", "P2")
        return self.intake.open_ticket(uuid4(), form, Cause(tenant, "agent-1", "corr", "cause")).ticket.id

    def ticket(self, ticket_id: UUID, tenant: str = "acme") -> Ticket:
        return self.intake.get_ticket(ticket_id, tenant)

    def stored_blobs(self) -> list[Path]:
        return [path for path in self.blobs.root.rglob("*") if path.is_file()]


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    intake = memory_intake()
    blobs = FileBlobStore(tmp_path / "blobs")
    app = Runtime("intake", Metrics("intake")).app()
    problems.install(app)
    app.include_router(router(intake, blobs, max_bytes=LIMIT))
    return Desk(intake, blobs, TestClient(authenticated(app)))


def upload(
    desk: Desk, ticket_id: UUID, content: bytes | Iterator[bytes] = LOG, filename: str = "vpn.log",
    content_type: str = "text/plain", tenant: str = "acme", comment_id: str | None = None, if_match: str | None = None,
) -> httpx.Response:  # fmt: skip
    params = {"filename": filename} | ({"comment_id": comment_id} if comment_id else {})
    extra = {"Content-Type": content_type} | ({"If-Match": if_match} if if_match else {})
    reply: httpx.Response = desk.api.post(
        f"/v1/tickets/{ticket_id}/attachments", params=params, content=content, headers=(headers(tenant) | extra)
    )
    return reply


def test_an_agent_attaches_a_log_file_and_downloads_the_same_bytes(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    attached = upload(desk, ticket_id, content_type="text/plain; charset=utf-8")
    assert attached.status_code == 201
    body = attached.json()
    assert body["sha256"] == hashlib.sha256(LOG).hexdigest()
    assert (body["size"], body["filename"], body["content_type"]) == (len(LOG), "vpn.log", "text/plain")
    assert attached.headers["location"] == f"/v1/tickets/{ticket_id}/attachments/{body['id']}"
    assert attached.headers["etag"] == f'"{desk.ticket(ticket_id).version}"'

    download = desk.api.get(attached.headers["location"], headers=headers("acme"))
    assert download.status_code == 200
    assert download.content == LOG
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["content-disposition"].startswith('attachment; filename="vpn.log"')
    assert download.headers["etag"] == f'"{body["sha256"]}"'


def test_the_ticket_event_holds_the_files_hash_not_its_content(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    upload(desk, ticket_id)
    added = [vars(e) for e in desk.intake.events.get(ticket_id) if type(e).__name__ == "AttachmentAdded"]
    assert len(added) == 1
    assert added[0]["sha256"] == hashlib.sha256(LOG).hexdigest()
    assert all(LOG[:40] not in stored.state for stored in desk.intake.recorder.select_events(ticket_id))


def test_a_file_over_the_limit_is_refused_with_413_and_nothing_is_recorded(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    version = desk.ticket(ticket_id).version
    refused = upload(desk, ticket_id, content=b"x" * (LIMIT + 1))
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    assert desk.ticket(ticket_id).version == version
    assert desk.stored_blobs() == []


def test_a_streamed_file_is_cut_off_at_the_limit_without_a_declared_length(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    refused = upload(desk, ticket_id, content=iter([b"x" * 16 * 1024] * 5))
    assert refused.status_code == 413
    assert desk.ticket(ticket_id).attachments == {}
    assert desk.stored_blobs() == []


def test_an_unsupported_type_gets_415(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    refused = upload(desk, ticket_id, filename="setup.exe", content_type="application/x-msdownload")
    assert refused.status_code == 415
    assert desk.ticket(ticket_id).attachments == {}


@pytest.mark.parametrize("filename", ["../../etc/passwd", "C:\\temp\\a.log", "a\nb.log", "x" * 256, " "])
def test_a_filename_with_folders_or_control_characters_is_refused(desk: Desk, filename: str) -> None:
    refused = upload(desk, desk.open_ticket(), filename=filename)
    assert refused.status_code == 422
    assert refused.json()["title"] == "Invalid filename"


def test_a_filename_in_any_language_comes_back_on_download(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    location = upload(desk, ticket_id, filename="Übersicht März.pdf", content_type="application/pdf").headers[
        "location"
    ]
    disposition = desk.api.get(location, headers=headers("acme")).headers["content-disposition"]
    assert disposition == "attachment; filename=\"_bersicht M_rz.pdf\"; filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz.pdf"


def test_a_blob_altered_on_disk_is_refused_on_download(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    body = upload(desk, ticket_id).json()
    path = desk.blobs.path_of(CUSTOMER, body["sha256"])
    path.chmod(0o644)
    path.write_bytes(LOG.replace(b"down", b"up!!"))
    reply = desk.api.get(f"/v1/tickets/{ticket_id}/attachments/{body['id']}", headers=headers("acme"))
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"
    assert (reply.json()["title"], reply.json()["reason"]) == ("Attachment content unavailable", "corrupt")
    assert b"up!!" not in reply.content


def test_a_missing_file_is_a_problem_not_a_server_error(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    body = upload(desk, ticket_id).json()
    desk.blobs.path_of(CUSTOMER, body["sha256"]).unlink()
    reply = desk.api.get(f"/v1/tickets/{ticket_id}/attachments/{body['id']}", headers=headers("acme"))
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"
    assert (reply.json()["title"], reply.json()["reason"]) == ("Attachment content unavailable", "missing")


def test_a_file_stored_before_blobs_were_kept_per_person_still_downloads(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    body = upload(desk, ticket_id).json()
    kept, shared = desk.blobs.path_of(CUSTOMER, body["sha256"]), desk.blobs.legacy_path_of(body["sha256"])
    shared.parent.mkdir(parents=True)
    kept.rename(shared)  # where every tenant's copy of it was kept before
    reply = desk.api.get(f"/v1/tickets/{ticket_id}/attachments/{body['id']}", headers=headers("acme"))
    assert (reply.status_code, reply.content) == (200, LOG)


def test_the_same_file_twice_is_stored_once_but_attached_twice(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    first, second = upload(desk, ticket_id).json(), upload(desk, ticket_id, filename="again.log").json()
    assert first["id"] != second["id"]
    assert first["sha256"] == second["sha256"]
    assert desk.stored_blobs() == [desk.blobs.path_of(CUSTOMER, first["sha256"])]
    listed = desk.api.get(f"/v1/tickets/{ticket_id}/attachments", headers=headers("acme")).json()
    assert [(a["id"], a["filename"]) for a in listed["attachments"]] == [
        (first["id"], "vpn.log"),
        (second["id"], "again.log"),
    ]


def test_another_tenant_can_neither_see_nor_download_nor_add_attachments(desk: Desk) -> None:
    ticket_id = desk.open_ticket("acme")
    body = upload(desk, ticket_id).json()
    listed = desk.api.get(f"/v1/tickets/{ticket_id}/attachments", headers=headers("globex"))
    download = desk.api.get(f"/v1/tickets/{ticket_id}/attachments/{body['id']}", headers=headers("globex"))
    added = upload(desk, ticket_id, tenant="globex")
    assert (listed.status_code, download.status_code, added.status_code) == (404, 404, 404)
    assert LOG not in download.content


def test_an_unknown_attachment_is_not_found(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    reply = desk.api.get(f"/v1/tickets/{ticket_id}/attachments/a-nothing", headers=headers("acme"))
    assert reply.status_code == 404
    assert reply.json()["title"] == "Attachment not found"


def test_a_stale_if_match_gets_412_and_a_current_one_attaches(desk: Desk) -> None:
    ticket_id = desk.open_ticket()
    version = desk.ticket(ticket_id).version
    stale = upload(desk, ticket_id, if_match=f'"{version - 1}"')
    assert stale.status_code == 412
    assert desk.ticket(ticket_id).attachments == {}
    current = upload(desk, ticket_id, if_match=f'"{version}"')
    assert current.status_code == 201
    assert current.headers["etag"] == f'"{version + 1}"'


def test_attaching_to_an_unknown_comment_breaks_a_rule(desk: Desk) -> None:
    refused = upload(desk, desk.open_ticket(), comment_id="c-missing")
    assert refused.status_code == 422
    assert refused.json()["rule"] == "comment_id"


def test_the_store_refuses_content_that_no_longer_matches_its_hash(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path)
    sha256, size = blobs.put(CUSTOMER, iter([LOG[:100], LOG[100:]]))
    assert (sha256, size) == (hashlib.sha256(LOG).hexdigest(), len(LOG))
    assert blobs.read_verified(CUSTOMER, sha256) == LOG
    path = blobs.path_of(CUSTOMER, sha256)
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    with pytest.raises(BlobCorruptError):
        blobs.read_verified(CUSTOMER, sha256)
    with pytest.raises(BlobCorruptError):
        blobs.open(CUSTOMER, sha256)


def test_the_store_names_a_missing_blob_and_leaves_no_partial_upload(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path)
    with pytest.raises(BlobNotFoundError):
        blobs.read_verified(CUSTOMER, "0" * 64)
    with pytest.raises(BlobNotFoundError):
        blobs.open(CUSTOMER, "../../etc/passwd")
    with pytest.raises(BlobTooLargeError):
        blobs.put(CUSTOMER, iter([b"x" * 10, b"x" * 10]), max_bytes=15)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
