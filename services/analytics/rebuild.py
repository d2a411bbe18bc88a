"""Drop the analytics projection and rebuild it from the services' event feeds."""

from __future__ import annotations

import logging

from eventsourcing.persistence import Tracking

from schemas.registry import parse_data
from services.analytics.projections import BacklogProjection
from services.chassis.feed import read_feed

log = logging.getLogger(__name__)


def rebuild(projection: BacklogProjection, feeds: dict[str, str]) -> int:
    """Replay every feed (source name -> base URL) into the emptied projection. Run with the
    live consumer stopped; it resumes afterwards and skips what the rebuild applied."""
    projection.drop(list(feeds))
    count = 0
    for source, url in feeds.items():
        for envelope in read_feed(url):
            projection.apply(envelope, parse_data(envelope), Tracking(envelope.source, envelope.position))
            count += 1
        log.info("rebuilt from %s: %d events so far", source, count)
    return count
