"""SLA's tables: its event store and its timers."""

from __future__ import annotations

from services.chassis.runtime.settings import Settings
from services.chassis.storage.tables import create_service_tables
from services.chassis.whatif.jobs import WhatIfJobs
from services.sla.application import Sla
from services.sla.timers import TimersView


def create_tables(settings: Settings) -> None:
    create_service_tables(settings, Sla, TimersView, WhatIfJobs)
