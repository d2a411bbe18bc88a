"""A process's readiness on its event store: every role of a service that keeps one plugs it in,
the API's as much as a relay's (so it lives apart from the Kafka wiring, which an API role never loads)."""

from __future__ import annotations

import asyncio
from typing import Any

from eventsourcing.application import Application

from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime


def check_store(runtime: Runtime, app: Application[Any], metrics: Metrics) -> None:
    """Readiness answers whether `app`'s event store answers; `/metrics` tells its newest position."""
    metrics.store_position.labels(app.name).set_function(lambda: app.recorder.max_notification_id() or 0)

    async def store_ready() -> bool:
        await asyncio.to_thread(app.recorder.max_notification_id)
        return True

    runtime.checks["store"] = store_ready
