"""What readers do with articles: a view, a rating, a self-service attempt that ended.

Each is a fact of its own (an aggregate of one event), so a popular article's readers never
contend with each other or with its editors, and its history stays the editors'.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event


class View(Aggregate):
    @event("Viewed")
    def __init__(self, tenant: str, article_id: str, channel: str, by: str) -> None:
        self.tenant = tenant
        self.article_id = article_id
        self.channel = channel
        self.by = by


class Rating(Aggregate):
    @event("Rated")
    def __init__(self, tenant: str, article_id: str, helpful: bool, channel: str, by: str) -> None:
        self.tenant = tenant
        self.article_id = article_id
        self.helpful = helpful
        self.channel = channel
        self.by = by


class SelfService(Aggregate):
    @event("Ended")
    def __init__(self, tenant: str, article_id: str | None, channel: str, outcome: str, by: str) -> None:
        self.tenant = tenant
        self.article_id = article_id
        self.channel = channel
        self.outcome = outcome
        self.by = by
