"""The event feed at the gateway: intake's public events merged with those of the other services
(services/chassis/http/gateway_feed.py), and intake's own every-tenant feed to rebuild from."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from schemas.topics import TICKETS
from services.chassis.http.feed import Feed, feed_router
from services.chassis.http.feed_sources import LocalSource, Source
from services.chassis.http.gateway_feed import MergedFeed, merged_feed_router
from services.intake.tickets.application import Intake
from services.intake.tickets.publication import public_fields


def router(intake: Intake, others: Sequence[Source] = ()) -> APIRouter:
    """`others`: the feeds of the services behind the gateway, merged after intake's."""
    public = public_fields(intake)
    api = feed_router(intake, public, tenant_feed=False, topic=TICKETS)  # the checkpoints: their own topic only
    local = LocalSource("intake", Feed(intake, public, TICKETS))
    api.include_router(merged_feed_router(MergedFeed([local, *others])))
    return api
