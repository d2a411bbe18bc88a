"""The tenant's custom fields as intake defines them, read by the rules service when a trigger with a condition on
a custom field is saved.

As with the SLA calendars (calendars.py): the definitions stay intake's alone, and what was read (the field's kind,
and a choice field's choices) is kept with the condition in the trigger's version, so a firing and a what-if
replay of that version read the field as the admin saw it. A field redefined later applies when the trigger is
next saved. The call is made as the admin who saves, so intake answers with that tenant's fields only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

from services.chassis.http.auth import TokenVerifier
from services.chassis.http.identity import Identity
from services.chassis.http.problems import DomainProblem

PATH = "/v1/fields"


class FieldsUnavailableError(DomainProblem):
    status = 503
    title = "Service unavailable"


class IntakeFields:
    def __init__(self, base_url: str, verifier: TokenVerifier, timeout: float = 10.0) -> None:
        self.base_url, self.verifier, self.timeout = base_url.rstrip("/"), verifier, timeout

    async def named(self, who: Identity, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The tenant's live fields among `keys` (key -> {kind, choices, ...}); those it lacks are left out."""
        wanted = set(keys)
        if not wanted:
            return {}
        token = self.verifier.mint_internal(who.principal)
        headers = {"authorization": f"Bearer {token}", "x-correlation-id": who.correlation_id}
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                reply = await client.get(f"{self.base_url}{PATH}", headers=headers)
        except httpx.TransportError as error:
            raise FieldsUnavailableError(f"intake does not answer: {error!r}", field="if") from None
        if reply.status_code != 200:
            raise FieldsUnavailableError(f"intake answered {reply.status_code} for the custom fields")
        found: dict[str, dict[str, Any]] = reply.json().get("fields", {})
        return {key: spec for key, spec in found.items() if key in wanted}
