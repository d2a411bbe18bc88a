"""A tenant's categories of articles: a tree (each names its parent), ordered among siblings.

A parent that would make the tree a circle is refused; a category is removed only when
nothing is under it (no child here; no article, which the application checks).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid
from services.knowledge.errors import KnowledgeError, NotFoundError


class Categories(Aggregate):
    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_uuid("knowledge", "categories", tenant)

    @event("Started")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.tree: dict[str, dict[str, Any]] = {}

    def define(self, slug: str, names: dict[str, str], parent: str | None, position: int, by: str) -> None:
        if parent is not None and parent not in self.tree:
            raise KnowledgeError(f"no category {parent!r} to be the parent", "parent")
        if parent is not None and slug in self.ancestors(parent, include_self=True):
            raise KnowledgeError(f"{parent!r} is {slug!r} or under it: the tree would be a circle", "parent")
        spec = {"names": names, "parent": parent, "position": position}
        if self.tree.get(slug) != spec:
            self._defined(slug=slug, spec=spec, by=by)

    @event("Defined")
    def _defined(self, slug: str, spec: dict[str, Any], by: str) -> None:
        self.tree = self.tree | {slug: spec}

    def remove(self, slug: str, by: str) -> None:
        if slug not in self.tree:
            raise NotFoundError(f"no category {slug!r}", "slug")
        if any(spec["parent"] == slug for spec in self.tree.values()):
            raise KnowledgeError(f"category {slug!r} has categories under it", "slug")
        self._removed(slug=slug, by=by)

    @event("Removed")
    def _removed(self, slug: str, by: str) -> None:
        self.tree = {s: spec for s, spec in self.tree.items() if s != slug}

    def ancestors(self, slug: str, include_self: bool = False) -> list[str]:
        """`slug`'s parent, its parent, ... up to the root (the tree has no circle to loop on)."""
        found = [slug] if include_self else []
        parent = self.tree.get(slug, {}).get("parent")
        while parent is not None and parent not in found:
            found.append(parent)
            parent = self.tree.get(parent, {}).get("parent")
        return found

    def listed(self) -> list[dict[str, Any]]:
        ordered = sorted(self.tree.items(), key=lambda item: (item[1]["position"], item[0]))
        return [{"slug": slug} | spec for slug, spec in ordered]
