"""What every service's `tables.py` shares: the tables of an event store, created on purpose.

`python -m services.migrate` calls each service's `create_tables` once per release; each
builds its stores and read models the way its main.py does, with table creation switched on.
"""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.application import Application

from services.chassis.messaging.published import PublishedLog
from services.chassis.runtime.settings import Settings
from services.chassis.storage.append_only import protect
from services.chassis.storage.store import tracking_recorder

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
