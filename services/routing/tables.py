"""Routing's tables: its event store and its load read model."""

from __future__ import annotations

from services.chassis.runtime.settings import Settings
from services.chassis.storage.tables import create_service_tables
from services.routing.application import Routing
from services.routing.projections import LoadProjection


def create_tables(settings: Settings) -> None:
    create_service_tables(settings, Routing, LoadProjection)
