"""The HTTP client that delivers to targets outside the network only.

Checking a target's name and then letting the client resolve it again to connect leaves a gap: a
name can answer a public address to the check and an internal one to the connection (DNS
rebinding). Here the check is part of opening the connection: the network backend resolves the
host once, refuses it when any address is internal, and connects to the addresses it checked.
Connections are still pooled by host name, and TLS keeps the name (SNI and certificate).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import httpcore
import httpx

from services.chassis.http.tls import trusted_roots
from services.intake.webhooks.subscriptions import global_addresses


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections to a host's global addresses only, as resolved for that check."""

    def __init__(self) -> None:
        self.network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await asyncio.to_thread(global_addresses, host, port)
        failure = httpcore.ConnectError(f"no address of {host!r} answered")
        for address in addresses:
            try:
                return await self.network.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                failure = error
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks go to network addresses only")

    async def sleep(self, seconds: float) -> None:
        await self.network.sleep(seconds)


# Every connection kept open between deliveries (httpx keeps 20 of its 100 by default: a burst to a few targets
# closed the others after each request and opened new ones for the next); the deliverer sends at most a few at
# once to one target (delivery.py PER_TARGET).
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (its request and error mapping), its pool on the checked backend."""

    def __init__(self) -> None:
        super().__init__(verify=trusted_roots())
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=trusted_roots(),
            max_connections=LIMITS.max_connections,
            max_keepalive_connections=LIMITS.max_keepalive_connections,
            network_backend=CheckedBackend(),
        )


def client(allow_private: bool, timeout: float = 10.0) -> httpx.AsyncClient:
    """A client for deliveries: to outside addresses only, unless the tenant's admin allowed private ones."""
    transport = None if allow_private else CheckedTransport()
    return httpx.AsyncClient(
        timeout=timeout, follow_redirects=False, transport=transport, limits=LIMITS, verify=trusted_roots()
    )
