"""The desk's agents among its people: `/v1/people/agents`, as the routing service knows them.

Routing owns agents (their groups, skills, tier, capacity, presence and load); intake keeps no copy.
Each route asks routing's own API (`/v1/routing/agents`), as the gateway forwards any call there: as
the caller, with the short-lived internal token minted for them. The list is routing's agent-load
read model (a moment behind a change); one agent is read from routing's store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from services.chassis.http.auth import Principal
from services.chassis.http.identity import CurrentIdentity, Identity
from services.chassis.http.problems import DomainProblem
from services.intake.http.directory import STAFF
from services.intake.people.directory import UnknownPersonError

WAIT_SECONDS = 5.0
AgentId = Annotated[str, Path(min_length=1, max_length=100, description="The agent's id (their token's subject).")]


class RoutingUnavailable(DomainProblem):
    status = 503
    title = "Service unavailable"


class AgentView(BaseModel):
    id: str = Field(description="The agent's id: the subject of their token.")
    groups: list[str] = Field(description="The routing groups they work in.")
    skills: list[str]
    tier: int = Field(description="1 (first line) to 3.")
    capacity: int = Field(description="Most open tickets at once.")
    presence: str = Field(description="`online`, `away` or `offline`.")
    load: int = Field(description="Open tickets assigned to them now.")

    @classmethod
    def of(cls, found: dict[str, Any]) -> AgentView:
        return cls(
            id=found["agent_id"], groups=found["groups"], skills=found["skills"], tier=found["tier"],
            capacity=found["capacity"], presence=found["presence"], load=found["load"],
        )  # fmt: skip


class AgentList(BaseModel):
    agents: list[AgentView] = Field(description="By id.")


class Roster:
    """Routing's agents, asked of routing as the caller."""

    def __init__(self, routing_url: str, client: httpx.AsyncClient, mint: Callable[[Principal], str]) -> None:
        self.routing = routing_url.rstrip("/")
        self.client = client
        self.mint = mint

    async def ask(self, path: str, who: Identity) -> dict[str, Any] | None:
        """Routing's answer to `GET /v1/routing{path}`; None when it has no such thing (404, or a path it refuses)."""
        headers = who.to_peer(self.mint)
        try:
            reply = await self.client.get(f"{self.routing}/v1/routing{path}", headers=headers, timeout=WAIT_SECONDS)
        except httpx.HTTPError as error:
            raise RoutingUnavailable(f"routing does not answer: {error!r}", upstream="routing") from None
        if 400 <= reply.status_code < 500:
            return None
        if reply.status_code != 200:
            raise RoutingUnavailable(f"routing answered {reply.status_code}", upstream="routing")
        answer: dict[str, Any] = reply.json()
        return answer


def router(roster: Roster) -> APIRouter:
    """Mounted before `/v1/people/{person_id}`, whose path would otherwise take `agents`."""
    api = APIRouter(prefix="/v1/people/agents", tags=["people"], dependencies=[STAFF])

    @api.get("")
    async def listing(
        who: CurrentIdentity,
        group_id: Annotated[str | None, Query(min_length=1, max_length=100, description="Only this group's.")] = None,
    ) -> AgentList:
        """The tenant's agents with their groups, skills, tier, capacity, presence and load, as routing knows
        them (none while routing has nothing set up for the tenant)."""
        found = await roster.ask("/agents", who)
        agents = [AgentView.of(row) for row in (found or {}).get("agents", [])]
        return AgentList(agents=[a for a in agents if group_id is None or group_id in a.groups])

    @api.get("/{agent_id}")
    async def read(agent_id: AgentId, who: CurrentIdentity) -> AgentView:
        """One agent as routing knows them now."""
        found = await roster.ask(f"/agents/{quote(agent_id, safe='')}", who)
        if found is None:
            raise UnknownPersonError("agent_id", f"routing knows no agent {agent_id!r} in this tenant")
        return AgentView.of(found)

    return api
