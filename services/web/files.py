"""A file the API answered, relayed to the browser with the headers that keep it safe to open."""

from __future__ import annotations

import httpx
from fastapi import Response

# The API's own: its type, name, version, no sniffing, and the sandbox it serves files under.
KEPT_HEADERS = ("content-type", "content-disposition", "etag", "x-content-type-options", "content-security-policy")


def relayed_file(answer: httpx.Response) -> Response:
    kept = {k: v for k, v in answer.headers.items() if k.lower() in KEPT_HEADERS}
    return Response(answer.content, headers=kept | {"Cache-Control": "private, no-store"})
