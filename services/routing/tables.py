"""Routing's tables: its event store and its load read model."""

from __future__ import annotations

from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env, tracking_recorder
from services.chassis.storage.tables import create_event_store_tables, creating
from services.routing.application import Routing
from services.routing.projections import LoadProjection


def create_tables(settings: Settings) -> None:
    settings = creating(settings)
    routing = Routing(env=store_env(settings, Routing.name))
    try:
        create_event_store_tables(settings, routing)
        LoadProjection(tracking_recorder(settings, Routing.name))
    finally:
        routing.close()
