"""The gateway's routes for the service: intake's routers, given what main chose, and the channels'.

Every router of intake is mounted through here (and `create_app`), in one order: the routes
that must come before `/tickets/{id}` first, the web chat socket last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI

from services.chassis.http.feed_sources import Source
from services.intake.attachments.blob_store import BlobStore
from services.intake.gateway.api_keys import ApiKeyStore
from services.intake.http import (
    agents,
    api_keys,
    directory,
    live,
    notifications,
    people,
    queries,
    scim,
    views,
    webhooks,
)
from services.intake.http.agents import Roster
from services.intake.http.app import create_app
from services.intake.macros.applying import MacroDesk
from services.intake.notifications.deliveries import Deliveries as NotificationDeliveries
from services.intake.people.directory import Directory
from services.intake.people.erasure import Erasures
from services.intake.people.index import PeopleIndex
from services.intake.people.subject_access import SubjectAccess
from services.intake.tickets.application import Intake
from services.intake.tickets.projections import TicketsProjection
from services.intake.tickets.sla_status import SlaStatus
from services.intake.tickets.viewers import Viewers
from services.intake.webhooks.delivery import Deliveries


@dataclass(frozen=True)
class Services:
    """What the gateway's routes work with, beyond the tickets."""

    projection: TicketsProjection
    deliveries: Deliveries
    api_keys: ApiKeyStore
    notifications: NotificationDeliveries
    erasures: Erasures
    access: SubjectAccess
    messenger: APIRouter
    """The messengers' webhooks (channels/telegram.py)."""
    chat: APIRouter
    """The web chat socket (channels/chat.py)."""
    viewers: Viewers
    """Who has each ticket open (collision)."""
    directory: Directory | None = None
    """The customers and their organisations (`/v1/people`, `/v1/organisations`)..."""
    people_index: PeopleIndex | None = None
    """... and their list."""
    agents: Roster | None = None
    """The agents, as routing knows them (`/v1/people/agents`)."""


def mount_gateway(
    app: FastAPI,
    intake: Intake,
    blobs: BlobStore,
    services: Services,
    *,
    max_upload: int,
    sla: SlaStatus | None,
    feeds: Sequence[Source],
    macros: MacroDesk | None = None,
) -> FastAPI:
    """Mount every route the gateway serves for intake on `app`."""
    first = (queries.router(intake, services.projection),)  # its /tickets/search before /tickets/{id}
    early: tuple[APIRouter, ...] = (
        webhooks.router(intake, services.deliveries),
        api_keys.router(services.api_keys),
        services.messenger,
        notifications.router(intake, services.notifications),
        people.router(services.erasures, services.access),
        views.router(intake),
        live.router(intake, sla, services.viewers),
    )
    if services.directory is not None and services.people_index is not None:
        early += (agents.router(services.agents),) if services.agents is not None else ()
        early += (
            directory.people_router(services.directory, services.people_index, services.projection),
            directory.organisations_router(services.directory, services.people_index),
            scim.router(services.directory, services.people_index),
        )
    return create_app(
        app,
        intake,
        blobs,
        *first,
        early=early,
        max_upload=max_upload,
        sla=sla,
        feeds=feeds,
        last=[services.chat],
        macros=macros,
    )
