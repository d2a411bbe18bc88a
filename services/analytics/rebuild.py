"""Drop the analytics projection and rebuild it from the services' event feeds.

Events are applied a page at a time, each page in one transaction with its tracking
rows (the next page is fetched meanwhile), with a progress line on stderr; at the end the rebuilt rows are compared with
the live ones taken just before the drop. Run it with the live consumer stopped; it
resumes afterwards and skips everything the rebuild applied.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TextIO

import httpx
from eventsourcing.persistence import Tracking

from schemas.registry import parse_data
from services.analytics.projections import AnalyticsProjection
from services.chassis.feed import read_ahead, read_pages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rebuilt:
    events: int
    seconds: float
    equals_live: bool

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def rebuild(
    projection: AnalyticsProjection,
    feeds: dict[str, str],
    token: Callable[[], str],
    progress: TextIO | None = sys.stderr,
) -> Rebuilt:
    """Replay every feed (source name -> base URL) into the emptied projection."""
    live = projection.rows()
    projection.drop(list(feeds))
    started = shown = time.perf_counter()
    count = 0
    analyzed = 1000
    # Three stages overlap: the next page is fetched (read_ahead) and parsed here while the writer
    # applies this one, whose time is mostly PostgreSQL's; one writer, so pages apply in order.
    with ThreadPoolExecutor(1, thread_name_prefix="rebuild-writer") as writer:
        writing: Future[None] | None = None
        for source, url in feeds.items():
            for page in read_ahead(read_pages(url, token)):
                batch = [(e, parse_data(e), Tracking(e.source, e.position)) for e in page]
                if writing is not None:
                    writing.result()
                if count >= analyzed * 4:  # the tables grew fourfold: the planner's statistics are stale
                    projection.analyze()
                    analyzed = count
                writing = writer.submit(projection.apply_many, batch)
                count += len(page)
                if progress is not None and time.perf_counter() - shown >= 0.5:
                    shown = time.perf_counter()
                    rate = count / max(shown - started, 1e-9)
                    progress.write(f"\r{source}: {count:>10,} events  {rate:>9,.0f} events/s")
                    progress.flush()
        if writing is not None:
            writing.result()
    seconds = time.perf_counter() - started
    equal = projection.rows() == live
    if progress is not None:
        verdict = "equals the live projection" if equal else "DIFFERS from the live projection"
        progress.write(
            f"\nrebuilt {count:,} events in {seconds:.1f} s ({count / max(seconds, 1e-9):,.0f}/s): {verdict}\n"
        )
    log.info("rebuilt %d events in %.1f s; equals the live projection: %s", count, seconds, equal)
    return Rebuilt(count, seconds, equal)


def upgrade(projection: AnalyticsProjection, feeds: dict[str, str], token: Callable[[], str]) -> None:
    """Rebuild tables an older version of analytics filled, before consuming; waits for the feeds
    (the services that serve them may be starting too)."""
    log.warning("analytics tables are of an older version: rebuilding them from the event feeds")
    while True:
        try:
            rebuild(projection, feeds, token)
        except httpx.TransportError as error:
            log.warning("event feeds not reachable yet (%r); retrying", error)
            time.sleep(2.0)
        else:
            projection.view.mark_current()
            return
