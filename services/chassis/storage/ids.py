"""Stable ids derived from names: the one way the desk names an aggregate, a derived request or an
envelope so that the same name gives the same id on every replay.

Stored aggregates are found by these ids, so a name's id never changes: `stable_uuid("tickets", t, k)`
is `uuid5(NAMESPACE_URL, f"/servicedesk/tickets/{t}/{k}")`, byte for byte.
"""

from __future__ import annotations

import hashlib
from uuid import NAMESPACE_URL, UUID

_NAMESPACE = NAMESPACE_URL.bytes
_ROOT = "/servicedesk"


def url_uuid5(name: str) -> str:
    """`str(uuid5(NAMESPACE_URL, name))` without making the UUID object: a feed page derives
    thousands of envelope ids, and the object's construction and formatting cost more than the hash."""
    digest = bytearray(hashlib.sha1(_NAMESPACE + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def desk_name(*parts: object) -> str:
    """The name `/servicedesk/<part>/<part>...`, each part formatted as an f-string formats it."""
    return "/".join([_ROOT, *(format(part) for part in parts)])


def stable_id(*parts: object) -> str:
    """The id of the name `/servicedesk/<parts...>`, as text (envelope and row ids)."""
    return url_uuid5(desk_name(*parts))


def stable_uuid(*parts: object) -> UUID:
    """The id of the name `/servicedesk/<parts...>`, as a UUID (aggregate ids)."""
    return UUID(stable_id(*parts))
