"""The event feed: intake's public events in store order, the source of truth to catch up from."""

from __future__ import annotations

from fastapi import APIRouter

from services.chassis.feed import feed_router
from services.intake.application import Intake
from services.intake.publication import public_fields


def router(intake: Intake) -> APIRouter:
    return feed_router(intake, public_fields(intake))
