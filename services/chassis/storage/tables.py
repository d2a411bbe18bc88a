"""What every service's `tables.py` shares: the tables of an event store, created on purpose.

`python -m services.migrate` calls each service's `create_tables` once per release; each
builds its stores and read models the way its main.py does, with table creation switched on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import TrackingRecorder

from services.chassis.messaging.published import PublishedLog
from services.chassis.runtime.settings import Settings
from services.chassis.storage.append_only import protect
from services.chassis.storage.store import store_env, tracking_recorder

log = logging.getLogger(__name__)


def creating(settings: Settings) -> Settings:
    """`settings` with table creation on, whatever the service itself runs with."""
    return settings.model_copy(update={"create_tables": True})


def create_event_store_tables(settings: Settings, app: Application[Any]) -> None:
    """`app`'s events, snapshots and tracking (made by constructing it), its append-only trigger
    and its published log."""
    protect(app)
    PublishedLog(tracking_recorder(settings, app.name), app.name)
    log.info("%s: event store and published log ready", app.name)


def create_service_tables(
    settings: Settings, service: type[Application[Any]], *read_models: Callable[[TrackingRecorder], object]
) -> None:
    """A service's event store, as `create_event_store_tables` makes it, and each read model that keeps its
    tables beside it (made on the store's tracking recorder, as the service's main.py makes it)."""
    settings = creating(settings)
    app = service(env=store_env(settings, service.name))
    try:
        create_event_store_tables(settings, app)
        for read_model in read_models:
            read_model(tracking_recorder(settings, service.name))
    finally:
        app.close()
