"""The cursor of a page of the ticket list: where the next page starts, opaque to the caller.

It holds the last row's sort key and id, and the order it was handed out for (a cursor of the
default order, newest first, has none: those handed out before other orders existed still work).
"""

from __future__ import annotations

import base64
import binascii
import json

NEWEST = "-created_at"


class InvalidCursorError(ValueError):
    """A cursor this list did not hand out."""


def encode_cursor(key: str, ticket_id: str, order: str = NEWEST) -> str:
    fields = [key, ticket_id] + ([] if order == NEWEST else [order])
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str, str]:
    """The last row's key, its ticket id, and the order."""
    try:
        fields = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(fields, list) or len(fields) not in (2, 3) or not all(isinstance(f, str) for f in fields):
            raise ValueError(cursor)
        return fields[0], fields[1], fields[2] if len(fields) == 3 else NEWEST
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
        raise InvalidCursorError(f"not a cursor of this list: {cursor!r}") from None
