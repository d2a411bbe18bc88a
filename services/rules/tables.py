"""The rules service's tables: its event store (with the tracking rows of what it consumed)."""

from __future__ import annotations

from services.chassis.runtime.settings import Settings
from services.chassis.storage.tables import create_service_tables
from services.rules.application import Rules


def create_tables(settings: Settings) -> None:
    create_service_tables(settings, Rules)
