"""Routing's tables: its event store, its load read model and its what-if jobs."""

from __future__ import annotations

from services.chassis.runtime.settings import Settings
from services.chassis.storage.tables import create_service_tables
from services.chassis.whatif.jobs import WhatIfJobs
from services.routing.application import Routing
from services.routing.projections import LoadProjection


def create_tables(settings: Settings) -> None:
    create_service_tables(settings, Routing, LoadProjection, WhatIfJobs)
