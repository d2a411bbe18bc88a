"""The knowledge service's tables: its event store, its read model (with the search index) and its files."""

from __future__ import annotations

from services.chassis.runtime.settings import Settings
from services.chassis.storage.tables import create_service_tables
from services.knowledge.application import Knowledge
from services.knowledge.files import Files
from services.knowledge.projections import ArticlesProjection


def create_tables(settings: Settings) -> None:
    create_service_tables(settings, Knowledge, ArticlesProjection, Files)
