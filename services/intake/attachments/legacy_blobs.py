"""Filing the blobs stored before blobs were kept per person (blobs.py says why they are).

Every ticket that has attachments is read from the store; each of its blobs is linked (a hard
link: no copy) under the ticket's requester, unless the requester was erased; then the shared
copies this run filed, or found on an erased requester's ticket, are removed, and those no ticket
had that are older than `ORPHAN_AGE_SECONDS`. A shared copy is removed only while it is still
the very file seen (same inode): during a rolling upgrade an older replica may store a shared copy
after the scan (even of a hash seen, by renaming a new file over it), and that one stays for the
next run to file. It runs when intake starts, before the erasures a crash left unfinished are
completed, and does nothing once no shared copy is left. Until it has run, downloads read the
shared copy (FileBlobStore._open).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from uuid import UUID

from services.chassis.storage.processing import find
from services.intake.attachments.blob_store import Owner
from services.intake.attachments.blobs import FileBlobStore, FileId, file_id
from services.intake.stored_topics import topics_of
from services.intake.tickets.application import Intake
from services.intake.tickets.domain import Ticket

log = logging.getLogger(__name__)

PAGE = 1000
ORPHAN_AGE_SECONDS = 24 * 3600  # far longer than an upload takes to be recorded on its ticket


def file_legacy_blobs(intake: Intake, blobs: FileBlobStore) -> int:
    """File every shared blob under the people whose tickets have it; how many links were made."""
    if next(blobs.legacy_blobs(), None) is None:
        return 0
    done: dict[Path, set[FileId]] = {}  # shared copy -> the files of it this run filed or found erased
    filed, seen, start = 0, set[UUID](), 1
    while page := intake.recorder.select_notifications(start, PAGE, topics=topics_of(Ticket, "AttachmentAdded")):
        for notification in page:
            ticket_id = UUID(str(notification.originator_id))
            if ticket_id not in seen:
                seen.add(ticket_id)
                filed += _file_ticket(intake, blobs, ticket_id, done)
        start = page[-1].id + 1
    removed = sum(_remove(path, done.get(path)) for path in list(blobs.legacy_blobs()))
    log.info("blobs filed per person: %d links for %d tickets; %d shared copies removed", filed, len(seen), removed)
    return filed


def _file_ticket(intake: Intake, blobs: FileBlobStore, ticket_id: UUID, done: dict[Path, set[FileId]]) -> int:
    ticket = find(intake, ticket_id, Ticket)
    if ticket is None:
        return 0
    owner = Owner(ticket.tenant, ticket.requester_id)
    hashes = [attachment["sha256"] for attachment in ticket.attachments.values()]
    if intake.personal.erased(owner.tenant, owner.person):
        for sha256 in hashes:  # theirs: the shared copy as it is now goes (another's link keeps the bytes)
            if (found := _id_of(blobs.legacy_path_of(sha256))) is not None:
                done.setdefault(blobs.legacy_path_of(sha256), set()).add(found)
        return 0
    filed = 0
    for sha256 in hashes:
        if (linked := blobs.adopt(owner, sha256)) is not None:
            done.setdefault(blobs.legacy_path_of(sha256), set()).add(linked)
            filed += 1
    if intake.personal.erased(owner.tenant, owner.person):  # erased while being filed: their files go after all
        blobs.forget(owner)
    return filed


def _remove(path: Path, done: set[FileId] | None) -> bool:
    """Unlink the shared copy at `path` if it is a file this run handled, or an old orphan."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False
    handled = done is not None and (stat.st_dev, stat.st_ino) in done
    if not handled and (done is not None or time.time() - stat.st_mtime < ORPHAN_AGE_SECONDS):
        return False
    path.unlink(missing_ok=True)
    return True


def _id_of(path: Path) -> FileId | None:
    try:
        return file_id(path)
    except FileNotFoundError:
        return None
