"""The web service's tables: its sessions and each person's preferences, nothing else (it keeps no event store)."""

from __future__ import annotations

import logging

from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.chassis.storage.tables import creating
from services.web.preferences import Preferences
from services.web.sessions import SessionStore

STORE = "web"  # the name main.py runs under

log = logging.getLogger(__name__)


def create_tables(settings: Settings) -> None:
    recorder = tracking_recorder(creating(settings), STORE)
    SessionStore(recorder)
    Preferences(recorder)
    log.info("%s: sessions and preferences ready", STORE)
