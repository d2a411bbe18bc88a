"""Which tickets a member of the desk's staff may see: one rule for every service.

Admins see every ticket of their tenant; agents and supervisors the tickets of their groups,
the tickets assigned to them, and the tickets no group has yet (the tenant's unrouted inbox).
A ticket outside the rule is answered as one that does not exist (404), in intake, routing
and wherever else a ticket is shown.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Protocol


class Viewer(Protocol):
    """Who is looking: an authenticated principal (services/chassis/http/auth.py) has these."""

    @property
    def subject(self) -> str: ...

    @property
    def roles(self) -> Set[str]: ...

    @property
    def groups(self) -> frozenset[str]: ...


def staff_sees(groups: frozenset[str], subject: str, group_id: str | None, agent_id: str | None) -> bool:
    """An agent or supervisor of `groups`, known as `subject`, may see a ticket held by
    `group_id` and `agent_id`."""
    return group_id is None or group_id in groups or agent_id == subject


def sees_ticket(who: Viewer, group_id: str | None, agent_id: str | None) -> bool:
    """The rule for any staff member (customers' tickets are intake's to decide)."""
    if "admin" in who.roles:
        return True
    return bool({"agent", "supervisor"} & set(who.roles)) and staff_sees(who.groups, who.subject, group_id, agent_id)
