"""The one gateway address: requests under a service's prefix are forwarded to it.

In Kubernetes the Ingress routes the same prefixes directly; this thin proxy gives
the embedded and docker-compose shapes the same single address.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request, Response

from services.chassis.problems import problem

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "host",
    "content-length",
}
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def mount_proxy(app: FastAPI, prefix: str, upstream: str, client: httpx.AsyncClient) -> None:
    """Forward `prefix/...` to the same path on `upstream`."""

    async def forward(request: Request, path: str) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            reply = await client.request(
                request.method, f"{upstream}{prefix}/{path}", params=request.query_params,
                headers=headers, content=await request.body(),
            )  # fmt: skip
        except httpx.TransportError as error:
            return problem(
                503,
                "Service unavailable",
                f"{upstream} does not answer: {error!r}",
                upstream=upstream,
            )
        kept = {k: v for k, v in reply.headers.items() if k.lower() not in _HOP_BY_HOP | {"content-encoding"}}
        return Response(reply.content, status_code=reply.status_code, headers=kept)

    app.add_api_route(f"{prefix}/{{path:path}}", forward, methods=_METHODS, include_in_schema=False)
