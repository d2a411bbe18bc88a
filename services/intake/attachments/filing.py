"""Attaching a file to a ticket and reading it back: the application's side of attachments.

The file streams chunk by chunk into the blob store under the ticket's requester (blobs.py), never whole in
memory; only when it is stored does the ticket record `AttachmentAdded` with its hash (`Intake.attach`, which
seals the filename). A keyed retry, or a key used before, keeps nothing new: its bytes are only hashed. What
goes out is opened here: the filenames a reader sees, the file to download once its person is not erased.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import BinaryIO
from uuid import UUID, uuid4

from services.chassis.http.auth import Principal
from services.intake.attachments.blob_store import (
    BlobCorruptError,
    BlobErasedError,
    BlobNotFoundError,
    BlobStore,
    BlobTooLargeError,
    Owner,
    StoredBlob,
)
from services.intake.tickets.access import readable_attachments, visible_ticket
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.representations import AttachmentView
from services.intake.tickets.work import StaleVersionError

log = logging.getLogger(__name__)


class AttachmentError(Exception):
    def __init__(self, attachment_id: str) -> None:
        super().__init__(attachment_id)
        self.attachment_id = attachment_id


class AttachmentMissingError(AttachmentError):
    """The ticket names no such attachment."""


class AttachmentErasedError(AttachmentError):
    """The ticket's requester was erased, and their files with them."""


class AttachmentUnavailableError(AttachmentError):
    """The ticket names the file but its bytes are gone, or no longer match their hash (`reason`)."""

    def __init__(self, attachment_id: str, reason: str) -> None:
        super().__init__(attachment_id)
        self.reason = reason


@dataclass(frozen=True)
class Attached:
    attachment: AttachmentView
    version: int  # the ticket's, after it recorded the file


@dataclass(frozen=True)
class Download:
    file: BinaryIO  # its bytes, verified against the sha256 the ticket recorded
    filename: str
    content_type: str
    size: int
    sha256: str


class Attachments:
    def __init__(self, intake: Intake, blobs: BlobStore, max_bytes: int) -> None:
        self.intake = intake
        self.blobs = blobs
        self.max_bytes = max_bytes

    async def attach(
        self,
        ticket_id: UUID,
        who: Principal,
        cause: Cause,
        chunks: AsyncIterator[bytes],
        filename: str,
        content_type: str,
        comment_id: str | None,
        expected_version: int | None,
    ) -> Attached:
        """Store the file `chunks` carry under the ticket's requester, then record it on the ticket. A stale
        `expected_version` is refused before the upload (a keyed retry is answered, not refused);
        BlobTooLargeError past `max_bytes`."""
        keyed = cause.request
        attachment_id = f"a-{(keyed.derived('attachment') if keyed else uuid4()).hex[:12]}"
        ticket = await asyncio.to_thread(visible_ticket, self.intake, ticket_id, who)
        if expected_version is not None and expected_version != ticket.version and keyed is None:
            raise StaleVersionError(expected_version, ticket.version)
        try:
            if await asyncio.to_thread(self.intake.keyed_before, cause.tenant, keyed):  # a retry, or the key reused:
                sha256, size = await self._hashed(chunks)  # nothing new is kept, so the file is not stored (no orphan)
            else:
                sha256, size = await self._stored(chunks, Owner(cause.tenant, ticket.requester_id))
        except BlobErasedError:  # erased while the file streamed in: it is not kept
            raise AttachmentErasedError(attachment_id) from None
        attachment = {
            "attachment_id": attachment_id,
            "sha256": sha256,
            "filename": filename,
            "content_type": content_type,
            "size": size,
            "comment_id": comment_id,
        }
        cause = replace(cause, request=keyed.covering(f"{sha256} {content_type}") if keyed else None)
        ticket = await asyncio.to_thread(self.intake.attach, ticket_id, cause, attachment, expected_version)
        [view] = [view for view in self.intake.attachments_of(ticket) if view.id == attachment_id]
        return Attached(view, ticket.version)

    def listed(self, ticket_id: UUID, who: Principal) -> tuple[list[AttachmentView], int]:
        """The ticket's attachments, their filenames opened, and the ticket's version."""
        ticket = visible_ticket(self.intake, ticket_id, who)
        return self.intake.attachments_of(ticket, readable_attachments(ticket, who)), ticket.version

    def download(self, ticket_id: UUID, attachment_id: str, who: Principal) -> Download:
        """The file to send, with its opened filename."""
        ticket = visible_ticket(self.intake, ticket_id, who)
        attachment = readable_attachments(ticket, who).get(attachment_id)
        if attachment is None:
            raise AttachmentMissingError(attachment_id)
        sha256: str = attachment["sha256"]
        if self.intake.personal.erased(who.tenant, ticket.requester_id):
            raise AttachmentErasedError(attachment_id)
        try:
            file = self.blobs.open(Owner(who.tenant, ticket.requester_id), sha256)
        except BlobErasedError:
            raise AttachmentErasedError(attachment_id) from None
        except BlobNotFoundError:
            raise AttachmentUnavailableError(attachment_id, "missing") from None
        except BlobCorruptError as error:
            log.error("attachment %s of ticket %s: %s", attachment_id, ticket_id, error)
            raise AttachmentUnavailableError(attachment_id, "corrupt") from None
        filename = self.intake.personal.unseal(who.tenant, attachment["filename"])
        return Download(file, filename, attachment["content_type"], attachment["size"], sha256)

    async def _stored(self, chunks: AsyncIterator[bytes], owner: Owner) -> StoredBlob:
        writer = await asyncio.to_thread(self.blobs.begin, owner, self.max_bytes)
        try:
            async for chunk in chunks:
                if chunk:
                    await asyncio.to_thread(writer.write, chunk)
            return await asyncio.to_thread(writer.commit)
        finally:
            writer.abort()  # one unlink of the upload's temp file; nothing after a commit

    async def _hashed(self, chunks: AsyncIterator[bytes]) -> StoredBlob:
        """The body's sha256 and size, as `_stored` would find them, without keeping a byte."""
        digest, size = hashlib.sha256(), 0
        async for chunk in chunks:
            size += len(chunk)
            if size > self.max_bytes:
                raise BlobTooLargeError(self.max_bytes)
            digest.update(chunk)
        return StoredBlob(digest.hexdigest(), size)
