"""The commands the knowledge base refuses: one small hierarchy, mapped to problem+json at the edge."""

from __future__ import annotations

from services.chassis.runtime.errors import CommandRefusedError, UnknownThingError


class KnowledgeError(CommandRefusedError):
    """A command the knowledge base refuses (422); `field` names what is wrong."""


class NotFoundError(KnowledgeError, UnknownThingError):
    """No such article, category or attachment for this tenant, or none the caller may see (404)."""


class VersionMismatchError(KnowledgeError):
    """`If-Match` names a version the article has moved on from (412)."""
