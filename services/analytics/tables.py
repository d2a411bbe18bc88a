"""Analytics' tables: read models only (it keeps no event store of its own)."""

from __future__ import annotations

import logging

from services.analytics.projections import AnalyticsProjection
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.chassis.storage.tables import creating

STORE = "analytics"  # the name main.py runs under

log = logging.getLogger(__name__)


def create_tables(settings: Settings) -> None:
    AnalyticsProjection(tracking_recorder(creating(settings), STORE))
    log.info("%s: read models ready", STORE)
