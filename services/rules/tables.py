"""The rules service's tables: its event store (with the tracking rows of what it consumed), its timers and its
what-if jobs."""

from __future__ import annotations

from services.chassis.runtime.settings import Settings
from services.chassis.storage.tables import create_service_tables
from services.chassis.whatif.jobs import WhatIfJobs
from services.rules.application import Rules
from services.rules.timed import TriggerTimers


def create_tables(settings: Settings) -> None:
    create_service_tables(settings, Rules, TriggerTimers, WhatIfJobs)
