"""The SLA service's business calendars, read by the rules service when a trigger with business-hours conditions
is saved.

Why read them then, over the SLA API, rather than learn them from an event: the calendars stay the SLA service's
alone (one source of truth, one copy of the calendar code in services/chassis/domain/calendar.py), no new public
event is needed, and the spec read is kept in the trigger's version, so a firing, a timer and a what-if replay
of that version always count the hours the admin saw when saving it. The price: a calendar changed later
applies to a trigger when the trigger is next saved (`PATCH /v1/triggers/{id}` with no change reads it again).

The call is made as the admin who saves (a short internal token for the same principal, as the gateway mints
it), so the SLA service answers with that tenant's calendars and nobody else's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

from services.chassis.http.auth import TokenVerifier
from services.chassis.http.identity import Identity
from services.chassis.http.problems import DomainProblem

PATH = "/v1/sla/calendars"


class CalendarsUnavailableError(DomainProblem):
    status = 503
    title = "Service unavailable"


class SlaCalendars:
    def __init__(self, base_url: str, verifier: TokenVerifier, timeout: float = 10.0) -> None:
        self.base_url, self.verifier, self.timeout = base_url.rstrip("/"), verifier, timeout

    async def named(self, who: Identity, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The tenant's calendars among `names` (name -> spec); those the SLA service does not know are left out."""
        wanted = set(names)
        if not wanted:
            return {}
        token = self.verifier.mint_internal(who.principal)
        headers = {"authorization": f"Bearer {token}", "x-correlation-id": who.correlation_id}
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                reply = await client.get(f"{self.base_url}{PATH}", headers=headers)
        except httpx.TransportError as error:
            raise CalendarsUnavailableError(f"the SLA service does not answer: {error!r}", field="calendar") from None
        if reply.status_code == 404:  # the tenant has set up no calendar nor policy yet
            return {}
        if reply.status_code != 200:
            raise CalendarsUnavailableError(f"the SLA service answered {reply.status_code} for its calendars")
        found: dict[str, dict[str, Any]] = reply.json().get("calendars", {})
        return {name: spec for name, spec in found.items() if name in wanted}
