"""An imported ticket's files into the blob store, before the ticket is imported: each stored once per
content under its requester (as every attachment is), its step then naming it by sha256 and size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from services.intake.attachments.blob_store import BlobStore, Owner
from services.intake.tickets.importing import ImportedStep, ImportedTicket


def storing(blobs: BlobStore, tenant: str) -> Callable[[ImportedTicket], ImportedTicket]:
    def stored(ticket: ImportedTicket) -> ImportedTicket:
        owner = Owner(tenant, ticket.form.requester_id)
        return replace(ticket, steps=[_stored(blobs, owner, step) for step in ticket.steps])

    return stored


def _stored(blobs: BlobStore, owner: Owner, step: ImportedStep) -> ImportedStep:
    if step.kind != "attachment" or "content" not in step.value:
        return step
    file = dict(step.value)
    blob = blobs.put(owner, file.pop("content"))
    return replace(step, value=file | {"sha256": blob.sha256, "size": blob.size})
