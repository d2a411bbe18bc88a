"""Routing's part of the gateway API (`/v1/routing`): groups, rules, agents, queues, decisions."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Path, Query, Response

from schemas.visibility import sees_ticket
from services.chassis.http import openapi
from services.chassis.http.auth import STAFF, Forbidden, Role
from services.chassis.http.identity import CurrentIdentity, Identity, requires
from services.chassis.http.request_keys import IdempotencyKey, scoped
from services.chassis.storage.catching_up import view_holds_the_store
from services.routing.application import Routing
from services.routing.errors import NotFoundError
from services.routing.projections import LoadProjection
from services.routing.requests import (
    NAME,
    AgentSpec,
    EscalationRequest,
    GroupSpec,
    NewRule,
    PresenceSpec,
    RuleOrder,
    RuleSpec,
)
from services.routing.work import Cause

LOAD_PATIENCE = 2.0  # seconds a read waits for the agent-load view to hold the writes made before it


def _cause(who: Identity) -> Cause:
    cause = {"actor": who.actor, "correlation_id": who.correlation_id, "causation_id": who.correlation_id}
    return cause | ({"traceparent": who.traceparent} if who.traceparent else {})


def router(routing: Routing, load: LoadProjection) -> APIRouter:
    # Any of its operations answers 404 while the tenant has set up nothing here yet.
    api = APIRouter(
        prefix="/v1/routing", tags=["routing"], dependencies=[requires(*STAFF)], responses=openapi.problems(404)
    )

    async def load_holds_the_store() -> None:
        """The agent-load view holds every change acknowledged before (an admin's page reads it right
        after a save); 503 if it does not get there within a moment."""
        await view_holds_the_store(load.position, routing.recorder.max_notification_id, LOAD_PATIENCE, "agent load")

    # -- groups ---------------------------------------------------------------------------

    @api.put("/groups/{group_id}", dependencies=[requires(Role.ADMIN)])
    async def put_group(group_id: Annotated[str, Path(pattern=NAME)], body: GroupSpec, who: CurrentIdentity) -> Any:
        """Define or change a group (queue): its tier, assignment strategy and escalation policy."""
        await asyncio.to_thread(
            routing.define_group,
            who.tenant,
            group_id,
            body.tier,
            body.strategy,
            body.escalates_to,
            list(body.escalate_on),
            body.default,
            who.actor,
        )
        return await get_groups(who)

    @api.get("/groups")
    async def get_groups(who: CurrentIdentity) -> dict[str, Any]:
        """The tenant's groups with members and how many tickets wait in each."""
        await load_holds_the_store()
        setup = await asyncio.to_thread(routing.setup, who.tenant)
        waiting = await asyncio.to_thread(load.queues, who.tenant)
        groups = [
            spec | {"group_id": g, "members": setup.members.get(g, []), "waiting": waiting.get(g, 0)}
            for g, spec in sorted(setup.groups.items())
        ]
        return {"default_group": setup.default_group, "groups": groups}

    @api.get("/queues/{group_id}")
    async def get_queue(group_id: str, who: CurrentIdentity) -> dict[str, Any]:
        """Tickets waiting in the group for an agent, in the order they will be taken."""
        queue = await asyncio.to_thread(routing.queue, who.tenant, group_id)
        tickets = [{"ticket_id": t} | queue.waiting_tickets[t] for t in queue.in_order()]
        return {"group_id": group_id, "waiting": tickets}

    # -- rules ------------------------------------------------------------------------------

    @api.get("/rules")
    async def get_rules(
        who: CurrentIdentity,
        as_of: Annotated[datetime | None, Query(description="The rules in force at this instant.")] = None,
    ) -> dict[str, Any]:
        """The routing rules in the order they are tried; the first that matches wins."""
        setup = await asyncio.to_thread(routing.setup, who.tenant, as_of)
        return {"default_group": setup.default_group, "rules": setup.rules, "as_of": as_of}

    @api.post(
        "/rules",
        status_code=201,
        dependencies=[requires(Role.ADMIN)],
        responses={200: {"description": "Added before with this Idempotency-Key."}},
    )
    async def post_rule(body: NewRule, who: CurrentIdentity, keyed: IdempotencyKey, response: Response) -> Any:
        """Add a rule at the end of the order (a retry under the same `Idempotency-Key`: the rule it added, 200)."""
        rule = body.as_rule(body.rule_id)
        added = await asyncio.to_thread(routing.add_rule, who.tenant, rule, scoped(who, keyed), who.actor)
        response.status_code = 201 if added else 200
        return rule

    @api.put("/rules/{rule_id}", dependencies=[requires(Role.ADMIN)])
    async def put_rule(rule_id: str, body: RuleSpec, who: CurrentIdentity) -> dict[str, Any]:
        """Change a rule in place; its position in the order stays."""
        rule = body.as_rule(rule_id)
        await asyncio.to_thread(routing.change_rule, who.tenant, rule, who.actor)
        return rule

    @api.delete("/rules/{rule_id}", status_code=204, dependencies=[requires(Role.ADMIN)])
    async def delete_rule(rule_id: str, who: CurrentIdentity) -> Response:
        """Retire a rule: it no longer matches new tickets; its history stays."""
        await asyncio.to_thread(routing.retire_rule, who.tenant, rule_id, who.actor)
        return Response(status_code=204)

    @api.put("/rule-order", dependencies=[requires(Role.ADMIN)])
    async def put_rule_order(body: RuleOrder, who: CurrentIdentity) -> dict[str, Any]:
        """Reorder the rules: name every rule once, first tried first."""
        await asyncio.to_thread(routing.reorder_rules, who.tenant, body.rule_ids, who.actor)
        return await get_rules(who)

    @api.get("/rules/history", dependencies=[requires(Role.ADMIN)])
    async def get_rule_history(
        who: CurrentIdentity,
        limit: Annotated[int, Query(ge=1, le=200, description="How many changes, newest first.")] = 20,
    ) -> dict[str, list[dict[str, Any]]]:
        """The newest changes of the rules, newest first: `{"changes": [{"at", "by" (the admin; "" for a
        change recorded before admins were), "change" (rule_added, rule_changed, rule_retired,
        rules_reordered), "id" (the rule; null for a new order)}]}`."""
        return {"changes": await asyncio.to_thread(routing.rule_changes, who.tenant, limit)}

    # -- agents -----------------------------------------------------------------------------

    @api.put("/agents/{agent_id}", dependencies=[requires(Role.ADMIN)])
    async def put_agent(
        agent_id: Annotated[str, Path(pattern=NAME)], body: AgentSpec, who: CurrentIdentity
    ) -> dict[str, Any]:
        """Register an agent or change their groups, skills, tier or capacity (new agents start offline)."""
        await asyncio.to_thread(
            routing.register_agent,
            who.tenant,
            agent_id,
            body.groups,
            body.skills,
            body.tier,
            body.capacity,
            _cause(who),
        )
        return await get_agent(agent_id, who)

    @api.put("/agents/{agent_id}/presence")
    async def put_presence(agent_id: str, body: PresenceSpec, who: CurrentIdentity) -> dict[str, Any]:
        """Online takes waiting tickets; away takes nothing new; offline gives back tickets not started.
        Agents set their own; supervisors and admins anyone's."""
        if not (who.principal.has(Role.SUPERVISOR, Role.ADMIN) or who.actor == agent_id):
            raise Forbidden("agents set their own presence only", rule="role")
        await asyncio.to_thread(routing.set_presence, who.tenant, agent_id, body.presence, _cause(who))
        return await get_agent(agent_id, who)

    @api.get("/agents/{agent_id}")
    async def get_agent(agent_id: str, who: CurrentIdentity) -> dict[str, Any]:
        agent = await asyncio.to_thread(routing.agent, who.tenant, agent_id)
        return {
            "agent_id": agent.agent_id,
            "groups": agent.groups,
            "skills": agent.skills,
            "tier": agent.tier,
            "capacity": agent.capacity,
            "presence": agent.presence,
            "load": len(agent.tickets),
            "tickets": agent.tickets,
            "assigned_total": agent.assignments,
        }

    @api.get("/agents")
    async def get_agents(who: CurrentIdentity) -> dict[str, Any]:
        """Every agent's presence and load (the agent-load read model, with every change made before)."""
        await load_holds_the_store()
        return {"agents": await asyncio.to_thread(load.agents, who.tenant)}

    # -- tickets ----------------------------------------------------------------------------

    async def visible(ticket_id: UUID, who: Identity) -> Any:
        found = await asyncio.to_thread(routing.ticket, who.tenant, str(ticket_id))
        if not sees_ticket(who.principal, found.group_id, found.agent_id):
            raise NotFoundError(f"routing knows no ticket {ticket_id}", "ticket_id")
        return found

    @api.get("/tickets/{ticket_id}")
    async def get_ticket(ticket_id: UUID, who: CurrentIdentity) -> dict[str, Any]:
        """Where the ticket is now and every routing decision about it, with its reason (an agent: of the
        tickets they may see, as in intake)."""
        return await where(ticket_id, who, await visible(ticket_id, who))

    async def where(ticket_id: UUID, who: Identity, routing_of: Any) -> dict[str, Any]:
        """Where the ticket is now, and routing's decisions about it."""
        events = await asyncio.to_thread(lambda: list(routing.decisions(who.tenant, str(ticket_id))))
        decisions = [
            {"decision_id": f"{ticket_id}/{e.originator_version}", "at": e.timestamp.isoformat()}
            | {
                k: getattr(e, k)
                for k in (
                    "kind",
                    "group_id",
                    "agent_id",
                    "tier",
                    "rule_id",
                    "reason",
                    "skills",
                    "rules_passed_over",
                    "agents_passed_over",
                )
            }
            for e in events
            if type(e).__name__ == "Decided"
        ]
        return {
            "ticket_id": str(ticket_id),
            "group_id": routing_of.group_id,
            "agent_id": routing_of.agent_id,
            "assigned_by_person": routing_of.by_person,
            "done": routing_of.done,
            "decisions": decisions,
        }

    @api.post("/tickets/{ticket_id}/escalations")
    async def post_escalation(
        ticket_id: UUID, body: EscalationRequest, who: CurrentIdentity, keyed: IdempotencyKey
    ) -> dict[str, Any]:
        """Escalate to the next tier's group now, reassigned there (even over a manual assignment), and answer
        where it went, also to an agent it leaves (it is then out of their groups). A retry under the same
        `Idempotency-Key` escalates no further: it answers where the ticket is now."""
        await visible(ticket_id, who)
        key = scoped(who, keyed)
        await asyncio.to_thread(routing.escalate, who.tenant, str(ticket_id), body.reason, _cause(who), key)
        return await where(ticket_id, who, await asyncio.to_thread(routing.ticket, who.tenant, str(ticket_id)))

    return api


def create_app(app: FastAPI, routing: Routing, load: LoadProjection) -> FastAPI:
    app.include_router(router(routing, load))
    return app
