"""The SLA service's part of the gateway API (`/v1/sla`): calendars, policies, and each ticket's clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from schemas.tickets import Priority
from schemas.visibility import sees_ticket
from services.chassis.http import openapi
from services.chassis.http.auth import STAFF, Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.sla.application import Sla
from services.sla.choice import RULES
from services.sla.policies import ALWAYS, SlaSetup, UnknownError

NAME = r"^[a-z0-9][a-z0-9_.:-]{0,62}$"

CLOCK_RULES = """How the clock counts (the rules users rely on):
- A ticket whose organisation (`/v1/organisations`) names an SLA policy of its own counts by that
  policy, whatever the policies' conditions; any other by the first policy whose conditions hold.
  An organisation's policy or calendar not defined here is passed over (logged and counted): the
  conditions choose, the policy's own calendar counts. The clock says why: `chosen_by`
  (`organisation` or `rules`) and `reason`. A change of the organisation's SLA reaches the tickets
  opened after it; a running clock keeps the policy it was chosen with.
- Targets count business time in the policy's calendar (`24x7` counts every instant), or in the
  calendar of the ticket's organisation when it names one defined here.
- first_response: from the ticket's opening to the first public reply by anyone but
  the requester. next_response: from each customer message after that to the next
  agent reply. resolution: from opening to resolve; a reopened ticket counts on from
  the business time already used.
- Pending on the customer pauses every running target; the customer's answer, the
  agent resuming the ticket, or the pending time running out resumes them. At the end
  of the pending time the customer is reminded, then every `reminders.every`; after
  `reminders.count` reminders without an answer the ticket is resolved as unresponsive.
- A priority change re-chooses the policy. The new targets count from the ticket's
  start, not from the change: the business time already used stays used, so a ticket
  raised to P1 after 3 business hours with a 2-hour P1 target is breached at once.
"""
Word = Annotated[str, Field(min_length=1, max_length=64)]
HistoryLimit = Annotated[int, Query(ge=1, le=200, description="How many changes, newest first.")]


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priorities: list[Priority] = Field(default_factory=list)
    categories: list[Word] = Field(default_factory=list)
    organisations: list[Word] = Field(default_factory=list)


Duration = Annotated[timedelta, Field(gt=timedelta(0), le=timedelta(days=365))]


class Targets(BaseModel):
    """Business time allowed, as ISO 8601 durations (`PT4H`) or seconds."""

    model_config = ConfigDict(extra="forbid")

    first_response: Duration | None = None
    next_response: Duration | None = None
    resolution: Duration | None = None


class Reminders(BaseModel):
    model_config = ConfigDict(extra="forbid")

    every: Duration = Field(description="Between reminders, after the pending time ends.")
    count: int = Field(ge=1, le=10, description="Reminders before the ticket is resolved as unresponsive.")


class PolicySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: Match = Field(default_factory=Match, description="Every condition given must hold; empty matches all.")
    calendar: str = Field(ALWAYS, description="A calendar id, or `24x7`.")
    targets: Targets
    warn_at: list[Annotated[int, Field(ge=1, le=99)]] = Field(
        default_factory=lambda: [75, 90], description="Warn when this % of a target is used."
    )
    reminders: Reminders | None = None

    def as_policy(self, policy_id: str) -> dict[str, Any]:
        targets = {m: int(d.total_seconds()) for m, d in self.targets if d is not None}
        policy: dict[str, Any] = {
            "policy_id": policy_id, "match": self.match.model_dump(mode="json"), "calendar": self.calendar,
            "targets": targets, "warn_at": sorted(set(self.warn_at)),
        }  # fmt: skip
        if self.reminders is not None:
            policy["reminders"] = {
                "every_seconds": int(self.reminders.every.total_seconds()),
                "count": self.reminders.count,
            }
        return policy


class PolicyOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy_ids: list[str]


def clock_view(sla: Sla, tenant: str, ticket_id: UUID, now: datetime) -> dict[str, Any]:
    clock = sla.clock(tenant, ticket_id)
    metrics = {}
    for metric, m in clock.metrics.items():
        running = m["state"] == "running"
        metrics[metric] = {
            "state": m["state"], "target_seconds": m["target"],
            "business_seconds_used": round(clock.used_at(metric, now)),
            "due_at": clock.instant_when(metric, m["target"]) if running else None,
            "warned_at_percent": m["warned"], "breached": m["breached"],
        }  # fmt: skip
    pending = clock.pending
    return {
        "ticket_id": str(ticket_id), "policy_id": clock.policy_id, "calendar": clock.policy["calendar"],
        "chosen_by": clock.policy.get("chosen_by", RULES), "reason": clock.policy.get("reason"),
        "metrics": metrics, "next_due_at": clock.due_at,
        "pending": {"until": pending["until"], "reminders_sent": pending["sent"]} if pending else None,
    }  # fmt: skip


def router(sla: Sla) -> APIRouter:
    # Any of its operations answers 404 while the tenant has set up nothing here yet.
    api = APIRouter(prefix="/v1/sla", tags=["sla"], dependencies=[requires(*STAFF)], responses=openapi.problems(404))

    @api.put("/calendars/{calendar_id}", dependencies=[requires(Role.ADMIN)])
    async def put_calendar(
        calendar_id: Annotated[str, Path(pattern=NAME)], body: dict[str, Any], who: CurrentIdentity
    ) -> dict[str, Any]:
        """Define business hours: `{"time_zone": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]]},
        "holidays": ["2026-12-24"], "country": "DE", "subdivision": "BE"}` (split days allowed)."""
        await asyncio.to_thread(sla.define_calendar, who.tenant, calendar_id, body, who.actor)
        return {"calendar_id": calendar_id} | body

    @api.get("/calendars")
    async def get_calendars(who: CurrentIdentity) -> dict[str, Any]:
        setup = await asyncio.to_thread(sla.setup, who.tenant)
        return {"calendars": setup.calendars}

    @api.put(
        "/policies/{policy_id}",
        description=f"Add a policy (tried after the others) or change it.\n\n{CLOCK_RULES}",
        dependencies=[requires(Role.ADMIN)],
    )
    async def put_policy(
        policy_id: Annotated[str, Path(pattern=NAME)], body: PolicySpec, who: CurrentIdentity
    ) -> dict[str, Any]:
        policy = body.as_policy(policy_id)
        await asyncio.to_thread(sla.define_policy, who.tenant, policy, who.actor)
        return policy

    @api.delete("/policies/{policy_id}", status_code=204, dependencies=[requires(Role.ADMIN)])
    async def delete_policy(policy_id: str, who: CurrentIdentity) -> Response:
        await asyncio.to_thread(sla.retire_policy, who.tenant, policy_id, who.actor)
        return Response(status_code=204)

    @api.put("/policy-order", dependencies=[requires(Role.ADMIN)])
    async def put_policy_order(body: PolicyOrder, who: CurrentIdentity) -> dict[str, Any]:
        await asyncio.to_thread(sla.reorder_policies, who.tenant, body.policy_ids, who.actor)
        return await get_policies(who)

    @api.get("/policies")
    async def get_policies(
        who: CurrentIdentity,
        as_of: Annotated[datetime | None, Query(description="The policies in force at this instant.")] = None,
    ) -> dict[str, Any]:
        """The policies in the order they are tried; the first that matches a ticket sets its targets."""
        setup = await asyncio.to_thread(sla.setup, who.tenant, as_of)
        return {"policies": setup.policies, "as_of": as_of}

    @api.get("/calendars/history", dependencies=[requires(Role.ADMIN)])
    async def get_calendar_history(who: CurrentIdentity, limit: HistoryLimit = 20) -> dict[str, list[dict[str, Any]]]:
        """The newest changes of the calendars, newest first: `{"changes": [{"at", "by" (the admin; "" for a
        change recorded before admins were), "change" (calendar_defined), "id" (the calendar)}]}`."""
        kinds = (SlaSetup.CalendarDefined,)
        return {"changes": await asyncio.to_thread(sla.setup_changes, who.tenant, kinds, limit)}

    @api.get("/policies/history", dependencies=[requires(Role.ADMIN)])
    async def get_policy_history(who: CurrentIdentity, limit: HistoryLimit = 20) -> dict[str, list[dict[str, Any]]]:
        """The newest changes of the policies, newest first: `{"changes": [{"at", "by" (the admin; "" for a
        change recorded before admins were), "change" (policy_defined, policy_retired, policies_reordered),
        "id" (the policy; null for a new order)}]}`."""
        kinds = (SlaSetup.PolicyDefined, SlaSetup.PolicyRetired, SlaSetup.PoliciesReordered)
        return {"changes": await asyncio.to_thread(sla.setup_changes, who.tenant, kinds, limit)}

    @api.get("/tickets/{ticket_id}", description=f"The ticket's SLA clock now.\n\n{CLOCK_RULES}")
    async def get_clock(ticket_id: UUID, who: CurrentIdentity) -> dict[str, Any]:
        """An agent sees the clocks of the tickets they may see (their groups', their own, the unrouted)."""
        clock = await asyncio.to_thread(sla.clock, who.tenant, ticket_id)
        if not sees_ticket(who.principal, clock.group_id, clock.agent_id):
            raise UnknownError(f"no SLA clock for ticket {ticket_id}", "ticket_id")
        view: dict[str, Any] = await asyncio.to_thread(clock_view, sla, who.tenant, ticket_id, datetime.now(UTC))
        return view

    return api


def create_app(app: FastAPI, sla: Sla) -> FastAPI:
    app.include_router(router(sla))
    return app
