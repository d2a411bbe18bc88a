"""SLA's tables: its event store and its timers."""

from __future__ import annotations

from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env, tracking_recorder
from services.chassis.storage.tables import create_event_store_tables, creating
from services.sla.application import Sla
from services.sla.timers import TimersView


def create_tables(settings: Settings) -> None:
    settings = creating(settings)
    sla = Sla(env=store_env(settings, Sla.name))
    try:
        create_event_store_tables(settings, sla)
        TimersView(tracking_recorder(settings, Sla.name))
    finally:
        sla.close()
