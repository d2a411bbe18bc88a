"""The knowledge service's application: each tenant's categories, its articles and what readers do.

Every command reads fresh state into one unit of work, runs the aggregate's command and is
recorded by `commit` in one transaction (several aggregates, one save: a translation is
linked on both articles at once); a lost race decides again on fresh state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate

from services.chassis.storage.processing import ProcessRecorderMixin, UnitOfWork, commit
from services.chassis.storage.processing import as_of as replayed
from services.chassis.storage.store import CACHED
from services.knowledge.categories import Categories
from services.knowledge.domain import Article
from services.knowledge.errors import KnowledgeError, NotFoundError, VersionMismatchError
from services.knowledge.signals import Rating, SelfService, View


class Knowledge(ProcessRecorderMixin, Application[UUID]):
    name = "knowledge"
    env: ClassVar[dict[str, str]] = CACHED  # the desk sets its size: Settings.aggregate_cache_size
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[UUID]], int]] = {
        Categories: 100, Article: 50
    }  # fmt: skip

    def run(self, decide: Callable[[UnitOfWork], Iterable[Aggregate]]) -> None:
        def attempt() -> Iterable[Aggregate]:
            work = UnitOfWork(self)
            return [*decide(work), *work.changed()]

        commit(self, attempt)

    # -- categories -------------------------------------------------------------------------

    def define_category(self, tenant: str, slug: str, names: dict[str, str], parent: str | None,
                        position: int, by: str) -> None:  # fmt: skip
        def decide(work: UnitOfWork) -> list[Aggregate]:
            tree = work.get(Categories.create_id(tenant), Categories) or work.add(Categories(tenant))
            tree.define(slug, names, parent, position, by)
            return []

        self.run(decide)

    def remove_category(self, tenant: str, slug: str, by: str, in_use: Callable[[str], bool]) -> None:
        """Remove an empty category: `in_use(slug)` says whether an article is filed under it."""
        if in_use(slug):
            raise KnowledgeError(f"articles are filed under {slug!r}: move or archive them first", "slug")

        def decide(work: UnitOfWork) -> list[Aggregate]:
            self._tree(work, tenant).remove(slug, by)
            return []

        self.run(decide)

    def categories(self, tenant: str) -> Categories | None:
        return UnitOfWork(self).get(Categories.create_id(tenant), Categories)

    def _tree(self, work: UnitOfWork, tenant: str) -> Categories:
        tree = work.get(Categories.create_id(tenant), Categories)
        if tree is None:
            raise NotFoundError(f"no categories for tenant {tenant!r}", "slug")
        return tree

    def check_category(self, tenant: str, slug: str | None) -> None:
        tree = self.categories(tenant)
        if slug is not None and (tree is None or slug not in tree.tree):
            raise KnowledgeError(f"no category {slug!r}", "category")

    # -- articles -----------------------------------------------------------------------------

    def draft(self, tenant: str, fields: dict[str, Any], translation_of: UUID | None, by: str) -> UUID:
        """A new draft; with `translation_of`, linked to that article and it to this one."""
        self.check_category(tenant, fields["category"])
        drafted: list[UUID] = []

        def decide(work: UnitOfWork) -> list[Aggregate]:
            original = None if translation_of is None else self._article(work, tenant, translation_of, "translation_of")
            translations = {} if original is None else {original.language: str(original.id)}
            article = Article(tenant=tenant, translations=translations, by=by, **fields)
            if original is not None:
                original.link_translation(article, by)
            drafted[:] = [article.id]
            return [article]

        self.run(decide)
        return drafted[0]

    def revise(self, tenant: str, article_id: UUID, changes: dict[str, Any], by: str, expected: int | None) -> None:
        if "category" in changes:
            self.check_category(tenant, changes["category"])
        self._command(tenant, article_id, expected, lambda article: article.revise(changes, by))

    def publish(self, tenant: str, article_id: UUID, by: str) -> None:
        self._command(tenant, article_id, None, lambda article: article.publish(by, datetime.now(UTC)))

    def archive(self, tenant: str, article_id: UUID, by: str) -> None:
        self._command(tenant, article_id, None, lambda article: article.archive(by))

    def attach(self, tenant: str, article_id: UUID, attachment: dict[str, Any], by: str) -> None:
        self._command(tenant, article_id, None, lambda article: article.attach(attachment, by))

    def _command(self, tenant: str, article_id: UUID, expected: int | None, command: Callable[[Article], None]) -> None:
        def decide(work: UnitOfWork) -> list[Aggregate]:
            article = self._article(work, tenant, article_id)
            if expected is not None and article.version != expected:
                raise VersionMismatchError(f"the article is at version {article.version}, not {expected}", "If-Match")
            command(article)
            return []

        self.run(decide)

    def _article(self, work: UnitOfWork, tenant: str, article_id: UUID, field: str = "article_id") -> Article:
        article = work.get(article_id, Article)
        if article is None or article.tenant != tenant:
            raise NotFoundError(f"no article {article_id}", field)
        return article

    def article(self, tenant: str, article_id: UUID, as_of: datetime | None = None) -> Article:
        """The article now, or as it was at `as_of` (404 if it did not exist yet)."""
        if as_of is None:
            return self._article(UnitOfWork(self), tenant, article_id)
        article = replayed(self, article_id, as_of)
        if not isinstance(article, Article) or article.tenant != tenant:
            raise NotFoundError(f"no article {article_id} at {as_of.isoformat()}", "as_of")
        return article

    def history(self, tenant: str, article_id: UUID) -> Iterator[Any]:
        self.article(tenant, article_id)
        return iter(self.events.get(article_id))

    # -- readers --------------------------------------------------------------------------------

    def viewed(self, tenant: str, article_id: UUID, channel: str, by: str) -> None:
        self.run(lambda work: [View(tenant, str(article_id), channel, by)])

    def rated(self, tenant: str, article_id: UUID, helpful: bool, channel: str, by: str) -> None:
        self.run(lambda work: [Rating(tenant, str(article_id), helpful, channel, by)])

    def self_service_ended(self, tenant: str, article_id: UUID | None, channel: str, outcome: str, by: str) -> None:
        found = None if article_id is None else str(article_id)
        self.run(lambda work: [SelfService(tenant, found, channel, outcome, by)])
