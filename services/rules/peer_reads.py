"""What the rules service reads of another service's setup when a trigger is saved (SLA's calendars, intake's
custom fields): a collection of that tenant's, asked for as the admin who saves (a short internal token for the
same principal, as the gateway mints it), so the other service answers with that tenant's things only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

from services.chassis.http.auth import TokenVerifier
from services.chassis.http.identity import Identity
from services.chassis.http.problems import DomainProblem
from services.chassis.http.tls import trusted_roots


class PeerUnavailableError(DomainProblem):
    status = 503
    title = "Service unavailable"


class PeerCollection:
    """`GET {base_url}{path}` -> `{collection: {name: spec}}`, of which `named` keeps the names asked for.
    `service` names the other service in refusals, `field` the part of the trigger that needed it."""

    service: str
    path: str
    collection: str
    field: str

    def __init__(self, base_url: str, verifier: TokenVerifier, timeout: float = 10.0) -> None:
        self.base_url, self.verifier, self.timeout = base_url.rstrip("/"), verifier, timeout

    async def named(self, who: Identity, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The tenant's things among `names` (name -> spec); those the other service lacks are left out."""
        wanted = set(names)
        if not wanted:
            return {}
        headers = who.to_peer(self.verifier.mint_internal)
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=trusted_roots()) as client:
                reply = await client.get(f"{self.base_url}{self.path}", headers=headers)
        except httpx.TransportError as error:
            raise PeerUnavailableError(f"{self.service} does not answer: {error!r}", field=self.field) from None
        if reply.status_code == 404:  # the tenant has set up none yet
            return {}
        if reply.status_code != 200:
            raise PeerUnavailableError(f"{self.service} answered {reply.status_code} for its {self.collection}")
        found: dict[str, dict[str, Any]] = reply.json().get(self.collection, {})
        return {name: spec for name, spec in found.items() if name in wanted}
