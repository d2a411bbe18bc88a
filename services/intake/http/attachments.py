"""Ticket attachments over HTTP: the raw file in, its sha256 on the ticket, verified bytes out.

The body streams chunk by chunk into the blob store (never whole in memory, never
holding a thread while the client is slow): the application's `Attachments` (attachments/filing.py)
stores it, then the ticket records `AttachmentAdded` with the hash. A download re-hashes the blob
first; one that is gone or no longer matches its hash answers 404 (410 when its person was erased),
never a server error.
Ticket errors (404, 409, 412, 422) are answered by intake's handlers (problems.py).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import unicodedata
from collections.abc import Iterator
from typing import Annotated, BinaryIO
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from services.chassis.http import openapi
from services.chassis.http.etag import etag, expected_version
from services.chassis.http.identity import CurrentIdentity
from services.chassis.http.problems import DomainProblem
from services.chassis.http.request_keys import StreamedIdempotencyKey
from services.intake.attachments.blob_store import BlobStore, BlobTooLargeError
from services.intake.attachments.blobs import CHUNK
from services.intake.attachments.filing import (
    AttachmentErasedError,
    AttachmentMissingError,
    Attachments,
    AttachmentUnavailableError,
)
from services.intake.http.common import cause_of
from services.intake.tickets.application import Intake
from services.intake.tickets.representations import AttachmentView

log = logging.getLogger(__name__)

MAX_BYTES = 25 * 1024 * 1024
ALLOWED_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/tiff",
        "image/heic",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/zip",
        "message/rfc822",
        "application/octet-stream",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    }
)
MAX_FILENAME = 255
_PROBLEMS: dict[int | str, dict[str, object]] = {
    status: {"description": description, "content": {"application/problem+json": {}}}
    for status, description in [
        (404, "No such ticket for this tenant."),
        (412, "If-Match names a version the ticket has moved on from."),
        (410, "The ticket's requester was erased."),
        (413, "The file is larger than the limit."),
        (415, "Files of this type are not accepted."),
    ]
}


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
    attachments = Attachments(intake, blobs, max_bytes)

    @api.post(
        "/tickets/{ticket_id}/attachments",
        status_code=201,
        response_model=AttachmentView,
        responses=_PROBLEMS,
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "The file itself; Content-Type is its type.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
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
        try:
            attached = await attachments.attach(
                ticket_id, who.principal, cause_of(who, keyed), request.stream(), name, media_type, comment_id, version
            )
        except BlobTooLargeError:
            raise _too_large(max_bytes) from None
        except AttachmentErasedError as error:
            raise _erased(error.attachment_id) from None
        location = f"/v1/tickets/{ticket_id}/attachments/{attached.attachment.id}"
        headers = {"ETag": etag(attached.version), "Location": location}
        return JSONResponse(attached.attachment.model_dump(mode="json"), status_code=201, headers=headers)

    @api.get("/tickets/{ticket_id}/attachments", response_model=AttachmentList)
    async def list_attachments(ticket_id: UUID, who: CurrentIdentity) -> JSONResponse:
        views, version = await asyncio.to_thread(attachments.listed, ticket_id, who.principal)
        body = AttachmentList(attachments=views).model_dump(mode="json")
        return JSONResponse(body, headers={"ETag": etag(version)})

    @api.get(
        "/tickets/{ticket_id}/attachments/{attachment_id}",
        response_class=StreamingResponse,
        responses=openapi.media(
            200,
            "*/*",
            "The file, of the type it was attached as, verified against its sha256.",
            {"type": "string", "format": "binary"},
        )
        | openapi.problems(404, 410),
    )
    async def download(ticket_id: UUID, attachment_id: str, who: CurrentIdentity) -> StreamingResponse:
        """The file's bytes, only once they hash to the sha256 the ticket recorded."""
        try:
            file = await asyncio.to_thread(attachments.download, ticket_id, attachment_id, who.principal)
        except AttachmentMissingError:
            raise AttachmentNotFound(
                f"ticket {ticket_id} has no attachment {attachment_id}", attachment_id=attachment_id
            ) from None
        except AttachmentErasedError:
            raise _erased(attachment_id) from None
        except AttachmentUnavailableError as error:
            raise _unavailable(attachment_id, error.reason) from None
        headers = {
            "Content-Disposition": _disposition(file.filename),
            "Content-Length": str(file.size),
            "ETag": f'"{file.sha256}"',
            "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(file.sha256)).decode()}:",
            "X-Content-Type-Options": "nosniff",
        }
        return StreamingResponse(_chunks(file.file), media_type=file.content_type, headers=headers)

    return api


def _erased(attachment_id: str) -> AttachmentErased:
    return AttachmentErased(
        "the ticket's requester was erased, and their files with them", attachment_id=attachment_id, rule="erasure"
    )


def _unavailable(attachment_id: str, reason: str) -> AttachmentUnavailable:
    return AttachmentUnavailable(
        f"the content of attachment {attachment_id} is {reason}: it cannot be served",
        attachment_id=attachment_id,
        reason=reason,
    )


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
            content_type=media_type,
            accepted=sorted(allowed_types),
        )
    return media_type


def _too_large(max_bytes: int) -> AttachmentTooLarge:
    return AttachmentTooLarge(f"an attachment has at most {max_bytes} bytes", max_bytes=max_bytes)


def _disposition(filename: str) -> str:
    fallback = "".join(c if c.isascii() and c not in '"%' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _chunks(file: BinaryIO) -> Iterator[bytes]:
    with file:
        while chunk := file.read(CHUNK):
            yield chunk
