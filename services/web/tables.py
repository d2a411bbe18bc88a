"""The web service's tables: its sessions, nothing else (it keeps no event store)."""

from __future__ import annotations

import logging

from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.chassis.storage.tables import creating
from services.web.sessions import SessionStore

STORE = "web"  # the name main.py runs under

log = logging.getLogger(__name__)


def create_tables(settings: Settings) -> None:
    SessionStore(tracking_recorder(creating(settings), STORE))
    log.info("%s: sessions ready", STORE)
