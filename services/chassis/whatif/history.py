"""A tenant's public events of a past window, in the order they happened: what a what-if replays.

Read from the public topics (outside any consumer group, nothing committed) starting at the first
record published at `since`. Across topics and partitions the events are put in the order of their
instants; events of one stream keep their store order (same instant: by sequence).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from schemas.registry import TypedEnvelope
from services.chassis.messaging.topic_history import TopicHistory

Progress = Callable[[int], None]  # called with the count of events read so far


def tenant_history(
    bootstrap: str,
    topics: list[str],
    tenant: str,
    since: datetime,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> list[TypedEnvelope]:
    """The tenant's events of [since, until) on `topics`, in the order they happened."""
    history: list[TypedEnvelope] = []
    read = 0
    for page in TopicHistory(bootstrap, topics, since=since).pages():
        read += len(page)
        history.extend(
            envelope
            for envelope in page
            if envelope.tenant == tenant
            and envelope.occurred_at >= since
            and (until is None or envelope.occurred_at < until)
        )
        if progress is not None:
            progress(read)
    history.sort(key=in_order)
    return history


def in_order(envelope: TypedEnvelope) -> tuple[datetime, str, str, int]:
    return (envelope.occurred_at, envelope.source, envelope.subject, envelope.sequence)
