"""Intake as tests build it: its personal data sealed with keys of its own, its words digested.

In memory for unit tests; on a desk's own database (the desk's secrets, its key table) for
tests that read what the desk's processes wrote.
"""

from __future__ import annotations

from collections.abc import Mapping

from eventsourcing.persistence import TrackingRecorder

from schemas.keywords import KeywordDigests
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env, tracking_recorder
from services.intake.privacy.personal_data import MemoryKeyTable, PersonalData, SqlKeyTable
from services.intake.privacy.search_tokens import SearchTokens
from services.intake.tickets.application import Intake
from services.intake.tickets.projections import TicketsProjection

SECRET = b"a test secret of thirty-two bytes!"
KEYWORD_SECRET = b"a test keyword secret"
AUDIT_SECRET = b"a test audit secret"
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def memory_intake(env: Mapping[str, str] | None = None) -> Intake:
    """Intake on eventsourcing's in-memory store, its keys in a dict."""
    personal = PersonalData(MemoryKeyTable(), SECRET)
    return Intake(
        env=dict(env or MEMORY), personal=personal, digests=KeywordDigests(KEYWORD_SECRET), audit_secret=AUDIT_SECRET
    )


def desk_intake(settings: Settings) -> Intake:
    """Intake on a desk's store, with the desk's secrets and key table (reads what the desk sealed)."""
    keys = SqlKeyTable(tracking_recorder(settings, Intake.name))
    personal = PersonalData(keys, settings.personal_data_secret.encode())
    digests = KeywordDigests(settings.keyword_secret.encode())
    return Intake(env=store_env(settings, Intake.name), personal=personal, digests=digests,
                  audit_secret=settings.audit_secret.encode())  # fmt: skip


def projection_of(intake: Intake, recorder: TrackingRecorder, secret: bytes = SECRET) -> TicketsProjection:
    """The ticket list of `intake`, opening its words with `intake`'s keys."""
    return TicketsProjection(recorder, intake.personal, SearchTokens(secret))
