"""What the knowledge API's routes share: the application, its read model and its files."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

from services.chassis.http.identity import Identity
from services.chassis.storage.catching_up import view_holds_the_store
from services.knowledge import search
from services.knowledge.application import Knowledge
from services.knowledge.domain import Article
from services.knowledge.errors import NotFoundError
from services.knowledge.files import Files
from services.knowledge.projections import ArticlesProjection
from services.knowledge.views import visible

RECORDED: dict[int | str, dict[str, Any]] = {202: {"description": "Recorded, as an event on knowledge.articles."}}
PUBLIC = search.Audience(staff=False, organisation=None)  # anyone, signed in or not


def audience(who: Identity) -> search.Audience:
    return search.Audience(staff=who.principal.is_staff, organisation=who.principal.organisation)


class Service:
    def __init__(self, knowledge: Knowledge, view: ArticlesProjection, files: Files, max_file: int) -> None:
        self.knowledge, self.view, self.files, self.max_file = knowledge, view, files, max_file

    async def caught_up(self, patience: float = 5.0) -> None:
        """Wait (a moment, at most `patience` seconds) until the view holds everything stored now, so
        a check on it sees the writes acknowledged before; 503 if it does not get there."""
        await view_holds_the_store(
            self.view.position, self.knowledge.recorder.max_notification_id, patience, "the articles view"
        )

    async def seen(
        self, tenant: str, article_id: UUID, reader: search.Audience, as_of: datetime | None = None
    ) -> Article:
        """The article, if `reader` may see it (404 otherwise, as if it were not there)."""
        article = await asyncio.to_thread(self.knowledge.article, tenant, article_id, as_of)
        if not visible(article, reader):
            raise NotFoundError(f"no article {article_id}", "article_id")
        return article
