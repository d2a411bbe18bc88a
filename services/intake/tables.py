"""Intake's tables: its event store (with the personal-data keys) and its read models."""

from __future__ import annotations

from schemas.keywords import KeywordDigests
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env, tracking_recorder
from services.chassis.storage.tables import create_event_store_tables, creating
from services.intake.privacy.personal_data import PersonalData, SqlKeyTable
from services.intake.privacy.search_tokens import SearchTokens
from services.intake.tickets.application import Intake
from services.intake.tickets.projections import TicketsProjection
from services.intake.tickets.sla_status import SlaStatus
from services.intake.webhooks.delivery import Deliveries


def create_tables(settings: Settings) -> None:
    settings = creating(settings)
    secret = settings.personal_data_secret.encode()
    personal = PersonalData(SqlKeyTable(tracking_recorder(settings, Intake.name)), secret)
    digests = KeywordDigests(settings.keyword_secret.encode())
    intake = Intake(env=store_env(settings, Intake.name), personal=personal, digests=digests,
                    audit_secret=settings.audit_secret.encode())  # fmt: skip
    try:
        create_event_store_tables(settings, intake)
        views = tracking_recorder(settings, Intake.name)
        TicketsProjection(views, personal, SearchTokens(secret))
        SlaStatus(views)
        Deliveries(views, intake)
    finally:
        intake.close()
