"""Blobs stored once for every tenant (before blobs were kept per person) are filed under each
person whose ticket has them; erasing one of those people then leaves the others' files alone."""

from __future__ import annotations

import hashlib
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from services.intake.attachments.blobs import BlobNotFoundError, FileBlobStore, Owner
from services.intake.attachments.legacy_blobs import file_legacy_blobs
from services.intake.tickets.application import Intake, TicketForm
from services.intake.tickets.domain import Cause
from tests.privacy import memory_intake

SCAN = b"the same scanned invoice, sent by two customers"
ORPHAN = b"an upload whose ticket never recorded it"


def shared(blobs: FileBlobStore, content: bytes) -> str:
    """`content` where blobs were kept before: one file per hash for every tenant."""
    sha256 = hashlib.sha256(content).hexdigest()
    path = blobs.legacy_path_of(sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return sha256


def ticket_with(intake: Intake, owner: Owner, sha256: str, size: int) -> UUID:
    cause = Cause(owner.tenant, "agent-1", "corr", "cause")
    form = TicketForm("Invoice", "see the scan", owner.person, "email", "billing", "question", "P3")
    ticket_id = intake.open_ticket(uuid4(), form, cause).ticket.id
    attachment = {"attachment_id": "a-1", "sha256": sha256, "filename": "scan.pdf", "content_type": "application/pdf",
                  "size": size, "comment_id": None}  # fmt: skip
    intake.attach(ticket_id, cause, attachment)
    return ticket_id


def test_shared_blobs_are_filed_per_person_and_one_erasure_leaves_the_other_tenants_copy(tmp_path: Path) -> None:
    intake, blobs = memory_intake(), FileBlobStore(tmp_path / "blobs")
    jolanta, bob, carol = Owner("acme", "jolanta"), Owner("globex", "bob"), Owner("acme", "carol")
    scan = shared(blobs, SCAN)
    for owner in (jolanta, bob, carol):
        ticket_with(intake, owner, scan, len(SCAN))
    shared(blobs, ORPHAN)
    intake.personal.destroy_key(carol.tenant, carol.person)  # erased before the filing

    assert file_legacy_blobs(intake, blobs) == 2
    assert list(blobs.legacy_blobs()) == []
    assert blobs.read_verified(jolanta, scan) == SCAN
    assert blobs.read_verified(bob, scan) == SCAN
    with pytest.raises(BlobNotFoundError):
        blobs.read_verified(carol, scan)
    blobs.forget(jolanta)
    with pytest.raises(BlobNotFoundError):
        blobs.read_verified(jolanta, scan)
    assert blobs.read_verified(bob, scan) == SCAN
    assert file_legacy_blobs(intake, blobs) == 0, "nothing left to file"
