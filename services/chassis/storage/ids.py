"""Stable ids derived from names, for envelopes that must get the same id on every replay."""

from __future__ import annotations

import hashlib
from uuid import NAMESPACE_URL

_NAMESPACE = NAMESPACE_URL.bytes


def url_uuid5(name: str) -> str:
    """`str(uuid5(NAMESPACE_URL, name))` without making the UUID object: a feed page derives
    thousands of envelope ids, and the object's construction and formatting cost more than the hash."""
    digest = bytearray(hashlib.sha1(_NAMESPACE + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
