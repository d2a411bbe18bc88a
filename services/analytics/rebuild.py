"""Drop the analytics projection and rebuild it from the event history: Kafka's topics from
the beginning, or the services' event feeds (where Kafka's retention no longer has it).

Events are applied a page at a time, each page in one transaction with its tracking rows
(the next page is read meanwhile), with a progress line on stderr; at the end the rebuilt
rows are compared with the live ones taken just before the drop. Run it with the live
consumer stopped; it resumes afterwards and skips everything the rebuild applied.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TextIO

import httpx
from eventsourcing.persistence import Tracking

from schemas.registry import TypedEnvelope, upcast
from services.analytics.projections import AnalyticsProjection
from services.chassis.http.feed import read_ahead, read_pages
from services.chassis.messaging.topic_history import TopicHistory
from services.chassis.runtime.collector import collecting_rarely
from services.chassis.runtime.retries import retry_sync

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rebuilt:
    events: int
    seconds: float
    equals_live: bool

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


Pages = Iterator[list[TypedEnvelope]]


def from_feeds(feeds: Mapping[str, str], token: Callable[[], str]) -> dict[str, Pages]:
    """Each service's feed (source name -> base URL), read a page ahead."""
    return {source: read_ahead(read_pages(url, token)) for source, url in feeds.items()}


def from_kafka(bootstrap: str, topics: list[str]) -> dict[str, Pages]:
    """The topics from their beginning, up to where they end now."""
    return {"kafka": TopicHistory(bootstrap, topics).pages()}


def rebuild(
    projection: AnalyticsProjection, sources: Mapping[str, Pages], progress: TextIO | None = sys.stderr
) -> Rebuilt:
    """Replay every source's pages into the emptied projection."""
    live = projection.fingerprint()
    projection.drop()
    started = time.perf_counter()
    with collecting_rarely():  # the rows just read stay out of every collection, and pages are garbage
        count = _replay(projection, sources, progress, started)
    seconds = time.perf_counter() - started
    equal = projection.fingerprint() == live
    if progress is not None:
        verdict = "equals the live projection" if equal else "DIFFERS from the live projection"
        progress.write(
            f"\nrebuilt {count:,} events in {seconds:.1f} s ({count / max(seconds, 1e-9):,.0f}/s): {verdict}\n"
        )
    log.info("rebuilt %d events in %.1f s; equals the live projection: %s", count, seconds, equal)
    return Rebuilt(count, seconds, equal)


def _replay(
    projection: AnalyticsProjection, sources: Mapping[str, Pages], progress: TextIO | None, started: float
) -> int:
    """Apply every page in order, each in one transaction with its tracking rows; how many events."""
    count = 0
    analyzed = 1000
    shown = started
    # Kafka may hold an event twice (a relay that republished). Positions by source: plain ints,
    # which the cycle collector does not track (a set of tuples is one more object per event to it).
    seen: defaultdict[str, set[int]] = defaultdict(set)
    # Three stages overlap: the next page is read (on a thread of the source's) and parsed here
    # while the writer applies this one, whose time is mostly PostgreSQL's; one writer, so pages
    # apply in order.
    with ThreadPoolExecutor(1, thread_name_prefix="rebuild-writer") as writer:
        writing: Future[None] | None = None
        for source, pages in sources.items():
            for page in pages:
                batch = []
                for e in page:
                    if e.position not in (positions := seen[e.source]):
                        positions.add(e.position)
                        batch.append((e, upcast(e.data), Tracking(e.source, e.position)))
                if writing is not None:
                    writing.result()
                if count >= analyzed * 4:  # the tables grew fourfold: the planner's statistics are stale
                    projection.analyze()
                    analyzed = count
                writing = writer.submit(projection.apply_many, batch)
                count += len(batch)
                if progress is not None and time.perf_counter() - shown >= 0.5:
                    shown = time.perf_counter()
                    rate = count / max(shown - started, 1e-9)
                    progress.write(f"\r{source}: {count:>10,} events  {rate:>9,.0f} events/s")
                    progress.flush()
        if writing is not None:
            writing.result()
    return count


def upgrade(projection: AnalyticsProjection, feeds: Mapping[str, str], token: Callable[[], str]) -> None:
    """Rebuild tables an older version of analytics filled, before consuming; waits for the feeds
    (the services that serve them may be starting too)."""
    log.warning("analytics tables are of an older version: rebuilding them from the event feeds")
    retry_sync(
        lambda: rebuild(projection, from_feeds(feeds, token)), httpx.TransportError,
        lambda error, seconds: log.warning("event feeds not reachable yet (%r); retrying in %.1fs", error, seconds),
        initial=2.0, maximum=10.0,
    )  # fmt: skip
    projection.view.mark_current()
