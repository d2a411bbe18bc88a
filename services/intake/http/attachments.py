"""Ticket attachments over HTTP: the raw file in, its sha256 on the ticket, verified bytes out.

The body streams chunk by chunk into the blob store (never whole in memory, never
holding a thread while the client is slow); only when the blob is stored does the
ticket record `AttachmentAdded` with the hash. Files are kept under the ticket's requester
(blobs.py). A download re-hashes the blob first; one that is gone or no longer matches its hash
answers 404 (410 when its person was erased), never a server error.
Ticket errors (404, 409, 412, 422) are answered by intake's handlers (problems.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import unicodedata
from collections.abc import Iterator
from typing import Annotated, BinaryIO
from urllib.parse import quote
from uuid import UUID, uuid4

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from services.chassis.http import openapi
from services.chassis.http.etag import etag, expected_version
from services.chassis.http.identity import CurrentIdentity
from services.chassis.http.problems import DomainProblem
from services.chassis.http.request_keys import StreamedIdempotencyKey
from services.intake.attachments.blob_store import (
    BlobCorruptError,
    BlobErasedError,
    BlobNotFoundError,
    BlobStore,
    BlobTooLargeError,
    Owner,
    StoredBlob,
)
from services.intake.attachments.blobs import CHUNK
from services.intake.http.common import cause_of
from services.intake.tickets.access import visible_ticket
from services.intake.tickets.application import Intake, StaleVersionError
from services.intake.tickets.representations import AttachmentView

log = logging.getLogger(__name__)

MAX_BYTES = 25 * 1024 * 1024
ALLOWED_TYPES = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff", "image/heic",
    "application/pdf", "text/plain", "text/csv", "application/zip", "message/rfc822", "application/octet-stream",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
})  # fmt: skip
MAX_FILENAME = 255
_PROBLEMS: dict[int | str, dict[str, object]] = {
    status: {"description": description, "content": {"application/problem+json": {}}}
    for status, description in [
        (404, "No such ticket for this tenant."), (412, "If-Match names a version the ticket has moved on from."),
        (410, "The ticket's requester was erased."), (413, "The file is larger than the limit."),
        (415, "Files of this type are not accepted."),
    ]
}  # fmt: skip


class AttachmentList(BaseModel):
    attachments: list[AttachmentView]


class AttachmentNotFound(DomainProblem):
    status = 404
    title = "Attachment not found"


class InvalidFilename(DomainProblem):
    status = 422
    title = "Invalid filename"


class AttachmentTooLarge(DomainProblem):
    status = 413
    title = "Attachment too large"


class UnsupportedContentType(DomainProblem):
    status = 415
    title = "Unsupported content type"


class AttachmentErased(DomainProblem):
    status = 410
    title = "Attachment erased"


class AttachmentUnavailable(DomainProblem):
    """The ticket names the file but its bytes are gone (or no longer match their hash)."""

    status = 404
    title = "Attachment content unavailable"


def router(
    intake: Intake, blobs: BlobStore, max_bytes: int = MAX_BYTES, allowed_types: frozenset[str] = ALLOWED_TYPES
) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["attachments"])

    async def stored(request: Request, owner: Owner) -> StoredBlob:
        writer = await asyncio.to_thread(blobs.begin, owner, max_bytes)
        try:
            async for chunk in request.stream():
                if chunk:
                    await asyncio.to_thread(writer.write, chunk)
            return await asyncio.to_thread(writer.commit)
        finally:
            writer.abort()  # one unlink of the upload's temp file; nothing after a commit

    async def hashed(request: Request) -> StoredBlob:
        """The body's sha256 and size, as `stored` would find them, without keeping a byte."""
        digest, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise BlobTooLargeError(max_bytes)
            digest.update(chunk)
        return StoredBlob(digest.hexdigest(), size)

    @api.post(
        "/tickets/{ticket_id}/attachments", status_code=201, response_model=AttachmentView, responses=_PROBLEMS,
        openapi_extra={"requestBody": {"required": True, "description": "The file itself; Content-Type is its type.",
                                       "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}},
    )  # fmt: skip
    async def attach(
        ticket_id: UUID,
        request: Request,
        who: CurrentIdentity,
        keyed: StreamedIdempotencyKey,
        filename: Annotated[str, Query(description="The file's name, without folders.")],
        comment_id: Annotated[str | None, Query(max_length=200, description="The comment it belongs to.")] = None,
        if_match: Annotated[str | None, Header(description='The ETag read (e.g. "7").')] = None,
    ) -> JSONResponse:
        """Attach a file: the body is the file, stored once per content; the ticket keeps its sha256. With an
        `Idempotency-Key`, a retry of the same file answers the attachment it made."""
        name = _checked_filename(filename)
        media_type = _allowed(request.headers.get("content-type"), allowed_types)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:  # refused before a byte is read
            raise _too_large(max_bytes)
        version = expected_version(if_match)
        attachment_id = f"a-{(keyed.derived('attachment') if keyed else uuid4()).hex[:12]}"
        ticket = await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        if version is not None and version != ticket.version and keyed is None:  # refused before the upload
            raise StaleVersionError(version, ticket.version)  # (a keyed retry is answered, not refused)
        try:
            if await asyncio.to_thread(intake.keyed_before, who.tenant, keyed):  # a retry, or the key reused:
                sha256, size = await hashed(request)  # nothing new is kept, so the file is not stored (no orphan)
            else:
                sha256, size = await stored(request, Owner(who.tenant, ticket.requester_id))
        except BlobTooLargeError:
            raise _too_large(max_bytes) from None
        except BlobErasedError:  # erased while the file streamed in: it is not kept
            raise _erased(attachment_id) from None

        attachment = {"attachment_id": attachment_id, "sha256": sha256, "filename": name,
                      "content_type": media_type, "size": size, "comment_id": comment_id}  # fmt: skip
        keyed = keyed.covering(f"{sha256} {media_type}") if keyed else None
        ticket = await asyncio.to_thread(intake.attach, ticket_id, cause_of(who, keyed), attachment, version)
        view = _view(attachment_id, intake.personal.opened(who.tenant, ticket.attachments[attachment_id]))
        location = f"/v1/tickets/{ticket_id}/attachments/{attachment_id}"
        headers = {"ETag": etag(ticket.version), "Location": location}
        return JSONResponse(view.model_dump(mode="json"), status_code=201, headers=headers)

    @api.get("/tickets/{ticket_id}/attachments", response_model=AttachmentList)
    async def list_attachments(ticket_id: UUID, who: CurrentIdentity) -> JSONResponse:
        ticket = await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        views = [_view(key, value) for key, value in intake.personal.opened(who.tenant, ticket.attachments).items()]
        body = AttachmentList(attachments=views).model_dump(mode="json")
        return JSONResponse(body, headers={"ETag": etag(ticket.version)})

    @api.get(
        "/tickets/{ticket_id}/attachments/{attachment_id}",
        response_class=StreamingResponse,
        responses=openapi.media(200, "*/*", "The file, of the type it was attached as, verified against its sha256.",
                                {"type": "string", "format": "binary"}) | openapi.problems(404, 410),
    )  # fmt: skip
    async def download(ticket_id: UUID, attachment_id: str, who: CurrentIdentity) -> StreamingResponse:
        """The file's bytes, only once they hash to the sha256 the ticket recorded."""
        ticket = await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        attachment = ticket.attachments.get(attachment_id)
        if attachment is None:
            raise AttachmentNotFound(
                f"ticket {ticket_id} has no attachment {attachment_id}", attachment_id=attachment_id
            )
        sha256: str = attachment["sha256"]
        if await asyncio.to_thread(intake.personal.erased, who.tenant, ticket.requester_id):
            raise _erased(attachment_id)
        try:
            file = await asyncio.to_thread(blobs.open, Owner(who.tenant, ticket.requester_id), sha256)
        except BlobErasedError:
            raise _erased(attachment_id) from None
        except BlobNotFoundError:
            raise _unavailable(attachment_id, "missing") from None
        except BlobCorruptError as error:
            log.error("attachment %s of ticket %s: %s", attachment_id, ticket_id, error)
            raise _unavailable(attachment_id, "corrupt") from None
        headers = {
            "Content-Disposition": _disposition(intake.personal.unseal(who.tenant, attachment["filename"])),
            "Content-Length": str(attachment["size"]),
            "ETag": f'"{sha256}"',
            "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:",
            "X-Content-Type-Options": "nosniff",
        }
        return StreamingResponse(_chunks(file), media_type=attachment["content_type"], headers=headers)

    return api


def _erased(attachment_id: str) -> AttachmentErased:
    return AttachmentErased(
        "the ticket's requester was erased, and their files with them", attachment_id=attachment_id, rule="erasure"
    )


def _unavailable(attachment_id: str, reason: str) -> AttachmentUnavailable:
    return AttachmentUnavailable(
        f"the content of attachment {attachment_id} is {reason}: it cannot be served", attachment_id=attachment_id,
        reason=reason,
    )  # fmt: skip


def _checked_filename(filename: str) -> str:
    name = unicodedata.normalize("NFC", filename.strip())
    if not name or name in {".", ".."} or len(name) > MAX_FILENAME:
        raise InvalidFilename(f"a filename has 1 to {MAX_FILENAME} characters, not {len(name)}", field="filename")
    if any(c in "/\\" or unicodedata.category(c).startswith("C") for c in name):
        raise InvalidFilename("a filename has no folders and no control characters", field="filename")
    return name


def _allowed(content_type: str | None, allowed_types: frozenset[str]) -> str:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in allowed_types:
        raise UnsupportedContentType(
            f"attachments of type {media_type or '(none)'!r} are not accepted",
            content_type=media_type, accepted=sorted(allowed_types),
        )  # fmt: skip
    return media_type


def _too_large(max_bytes: int) -> AttachmentTooLarge:
    return AttachmentTooLarge(f"an attachment has at most {max_bytes} bytes", max_bytes=max_bytes)


def _view(attachment_id: str, attachment: dict[str, object]) -> AttachmentView:
    return AttachmentView.model_validate({"id": attachment_id, **attachment})


def _disposition(filename: str) -> str:
    fallback = "".join(c if c.isascii() and c not in '"%' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _chunks(file: BinaryIO) -> Iterator[bytes]:
    with file:
        while chunk := file.read(CHUNK):
            yield chunk
