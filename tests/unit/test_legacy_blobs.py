"""Blobs stored once for every tenant (before blobs were kept per person) are filed under each
person whose ticket has them; erasing one of those people then leaves the others' files alone."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from services.intake.attachments.blob_store import BlobNotFoundError, Owner
from services.intake.attachments.blobs import FileBlobStore, FileId
from services.intake.attachments.legacy_blobs import ORPHAN_AGE_SECONDS, file_legacy_blobs
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.form import TicketForm
from tests.privacy import memory_intake

SCAN = b"the same scanned invoice, sent by two customers"
ORPHAN = b"an upload whose ticket never recorded it"
LATE = b"a file an older replica stored after the filing began"


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
    orphan = blobs.legacy_path_of(shared(blobs, ORPHAN))
    os.utime(orphan, (time.time() - ORPHAN_AGE_SECONDS - 60,) * 2)  # long before: no upload still recording it
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


class UpgradingDesk(FileBlobStore):
    """A blob store an older replica writes shared copies into while this one files them: right after
    the first file is filed, it stores that same content again (a new file renamed over the shared
    copy) and a new file of its own, both for tickets it is about to record."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.written: list[Path] = []

    def adopt(self, owner: Owner, sha256: str) -> FileId | None:
        linked = super().adopt(owner, sha256)
        if not self.written:
            for content in (SCAN, LATE):
                temp = self.root / "upload"
                temp.write_bytes(content)
                path = self.legacy_path_of(hashlib.sha256(content).hexdigest())
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, path)
                self.written.append(path)
        return linked


def test_shared_blobs_an_older_replica_stores_during_the_filing_are_kept_for_their_tickets(tmp_path: Path) -> None:
    intake, blobs = memory_intake(), UpgradingDesk(tmp_path / "blobs")
    jolanta, bob = Owner("acme", "jolanta"), Owner("globex", "bob")
    scan = shared(blobs, SCAN)
    ticket_with(intake, jolanta, scan, len(SCAN))

    assert file_legacy_blobs(intake, blobs) == 1
    assert blobs.read_verified(jolanta, scan) == SCAN
    assert all(path.exists() for path in blobs.written), "the older replica's files are still there"
    late = hashlib.sha256(LATE).hexdigest()
    ticket_with(intake, bob, scan, len(SCAN))  # what the older replica recorded next
    ticket_with(intake, bob, late, len(LATE))
    assert blobs.read_verified(bob, scan) == SCAN
    assert blobs.read_verified(bob, late) == LATE
    assert file_legacy_blobs(intake, blobs) == 2, "the next run files them"
    assert list(blobs.legacy_blobs()) == []
    assert blobs.read_verified(bob, late) == LATE
