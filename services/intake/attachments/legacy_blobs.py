"""Filing the blobs stored before blobs were kept per person (blobs.py says why they are).

Every ticket that has attachments is read from the store; each of its blobs is linked (a hard
link: no copy) under the ticket's requester, unless the requester was erased; then the shared
copies are removed, those of erased people and files never attached with them. It runs when
intake starts, before the erasures a crash left unfinished are completed, and does nothing once
no shared copy is left. Until it has run, downloads read the shared copy (FileBlobStore._open).
"""

from __future__ import annotations

import logging
from uuid import UUID

from services.chassis.processing import find
from services.intake.attachments.blobs import FileBlobStore, Owner
from services.intake.stored_topics import topics_of
from services.intake.tickets.application import Intake
from services.intake.tickets.domain import Ticket

log = logging.getLogger(__name__)

PAGE = 1000


def file_legacy_blobs(intake: Intake, blobs: FileBlobStore) -> int:
    """File every shared blob under the people whose tickets have it; how many links were made."""
    if next(blobs.legacy_blobs(), None) is None:
        return 0
    filed, seen, start = 0, set[UUID](), 1
    while page := intake.recorder.select_notifications(start, PAGE, topics=topics_of(Ticket, "AttachmentAdded")):
        for notification in page:
            ticket_id = UUID(str(notification.originator_id))
            if ticket_id not in seen:
                seen.add(ticket_id)
                filed += _file_ticket(intake, blobs, ticket_id)
        start = page[-1].id + 1
    removed = 0
    for path in list(blobs.legacy_blobs()):
        path.unlink(missing_ok=True)
        removed += 1
    log.info("blobs filed per person: %d links for %d tickets; %d shared copies removed", filed, len(seen), removed)
    return filed


def _file_ticket(intake: Intake, blobs: FileBlobStore, ticket_id: UUID) -> int:
    ticket = find(intake, ticket_id, Ticket)
    if ticket is None:
        return 0
    owner = Owner(ticket.tenant, ticket.requester_id)
    if intake.personal.erased(owner.tenant, owner.person):
        return 0
    filed = sum(blobs.adopt(owner, attachment["sha256"]) for attachment in ticket.attachments.values())
    if intake.personal.erased(owner.tenant, owner.person):  # erased while being filed: their files go after all
        blobs.forget(owner)
    return filed
