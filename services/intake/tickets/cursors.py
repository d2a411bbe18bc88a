"""The cursor of a page of the ticket list: where the next page starts, opaque to the caller."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime


class InvalidCursorError(ValueError):
    """A cursor this list did not hand out."""


def encode_cursor(created_at: str, ticket_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at, ticket_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created_at, ticket_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created_at), str(ticket_id)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
        raise InvalidCursorError(f"not a cursor of this list: {cursor!r}") from None
