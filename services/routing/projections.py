"""Routing's read model: every agent's load and presence, and every group's queue length.

Fed from routing's own store by the chassis' StoreProjector, so it can be dropped and
rebuilt from the events at any time (`python -m services.routing.main rebuild`) and
must then equal the live aggregates.
"""

from __future__ import annotations

import json
from typing import Any

from services.chassis.storage.projector import SqlProjection
from services.chassis.storage.views import Sql

VIEW = "routing-load-view"

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS routing_agents (
        stream_id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        groups TEXT NOT NULL,
        skills TEXT NOT NULL,
        tier INTEGER NOT NULL,
        capacity INTEGER NOT NULL,
        presence TEXT NOT NULL,
        load INTEGER NOT NULL,
        assigned_total INTEGER NOT NULL)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS routing_agents_by_tenant ON routing_agents (tenant, agent_id)",
    """CREATE TABLE IF NOT EXISTS routing_queues (
        stream_id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        group_id TEXT NOT NULL,
        waiting INTEGER NOT NULL)""",
]


class LoadProjection(SqlProjection):
    name = VIEW
    schema = SCHEMA

    def write(self, sql: Sql, event: Any) -> None:
        """One event of an Agent or a Queue aggregate; routing's other events do not change load."""
        stream = {"stream_id": str(event.originator_id)}
        match type(event).__qualname__:
            case "Agent.Registered":
                sql.execute(
                    "INSERT INTO routing_agents VALUES (:stream_id, :tenant, :agent_id, :groups, :skills, :tier,"
                    " :capacity, 'offline', 0, 0)",
                    stream | {"tenant": event.tenant, "agent_id": event.agent_id, "groups": json.dumps(event.groups),
                              "skills": json.dumps(event.skills), "tier": event.tier, "capacity": event.capacity},
                )  # fmt: skip
            case "Agent.Updated":
                sql.execute(
                    "UPDATE routing_agents SET groups = :groups, skills = :skills, tier = :tier,"
                    " capacity = :capacity WHERE stream_id = :stream_id",
                    stream | {"groups": json.dumps(event.groups), "skills": json.dumps(event.skills),
                              "tier": event.tier, "capacity": event.capacity},
                )  # fmt: skip
            case "Agent.PresenceChanged":
                sql.execute(
                    "UPDATE routing_agents SET presence = :presence WHERE stream_id = :stream_id",
                    stream | {"presence": event.presence},
                )
            case "Agent.TicketTaken":
                sql.execute(
                    "UPDATE routing_agents SET load = load + 1, assigned_total = assigned_total + 1"
                    " WHERE stream_id = :stream_id",
                    stream,
                )
            case "Agent.TicketReleased":
                sql.execute("UPDATE routing_agents SET load = load - 1 WHERE stream_id = :stream_id", stream)
            case "Queue.Created":
                sql.execute(
                    "INSERT INTO routing_queues VALUES (:stream_id, :tenant, :group_id, 0)",
                    stream | {"tenant": event.tenant, "group_id": event.group_id},
                )
            case "Queue.TicketQueued":
                sql.execute("UPDATE routing_queues SET waiting = waiting + 1 WHERE stream_id = :stream_id", stream)
            case "Queue.TicketLeft":
                sql.execute("UPDATE routing_queues SET waiting = waiting - 1 WHERE stream_id = :stream_id", stream)
            case _:
                pass

    # -- reading ------------------------------------------------------------------------

    def agents(self, tenant: str) -> list[dict[str, Any]]:
        rows = self.view.query(
            "SELECT agent_id, groups, skills, tier, capacity, presence, load, assigned_total FROM routing_agents"
            " WHERE tenant = :tenant ORDER BY agent_id",
            {"tenant": tenant},
        )
        return [row | {"groups": json.loads(row["groups"]), "skills": json.loads(row["skills"])} for row in rows]

    def queues(self, tenant: str) -> dict[str, int]:
        rows = self.view.query(
            "SELECT group_id, waiting FROM routing_queues WHERE tenant = :tenant ORDER BY group_id", {"tenant": tenant}
        )
        return {row["group_id"]: row["waiting"] for row in rows}

    def all_agents(self) -> list[dict[str, Any]]:
        return self.view.query("SELECT tenant, agent_id, load, capacity FROM routing_agents")

    def all_queues(self) -> list[dict[str, Any]]:
        return self.view.query("SELECT tenant, group_id, waiting FROM routing_queues")

    def drop(self) -> None:
        """Forget everything: the next catch-up rebuilds from the first event."""
        with self.view.transaction() as sql:
            sql.execute("DELETE FROM routing_agents")
            sql.execute("DELETE FROM routing_queues")
            sql.execute(f"DELETE FROM {self.view.tracking_table} WHERE application_name = :name", {"name": VIEW})
