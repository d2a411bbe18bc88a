"""The commands routing refuses: one small hierarchy, mapped to problem+json at the edge."""

from __future__ import annotations

from services.chassis.runtime.errors import CommandRefusedError, UnknownThingError


class RoutingError(CommandRefusedError):
    """A command routing refuses; `field` names what is wrong."""


class NotFoundError(RoutingError, UnknownThingError):
    """No such setup, group, rule, agent or ticket for this tenant."""
