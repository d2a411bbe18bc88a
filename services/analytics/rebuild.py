"""Drop a projection and rebuild it from the source's event feed."""

from __future__ import annotations

import logging

from eventsourcing.persistence import Tracking

from schemas.registry import parse_data
from services.analytics.projections import BacklogProjection
from services.chassis.feed import read_feed

log = logging.getLogger(__name__)


def rebuild(projection: BacklogProjection, feed_url: str, source: str) -> int:
    """Run with the live consumer stopped; it resumes afterwards and skips what is rebuilt."""
    projection.drop([source])
    count = 0
    for envelope in read_feed(feed_url):
        projection.apply(envelope, parse_data(envelope), Tracking(envelope.source, envelope.position))
        count += 1
    log.info("rebuilt the backlog from %d events of %s", count, source)
    return count
