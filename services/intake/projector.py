"""The worker that keeps the ticket read model up with intake's store.

It follows the store's notification log from the view's own tracked position, decodes
each batch and applies it with one tracking row, so a restart resumes exactly where
the last committed batch ended. A store that is away is waited for, with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Tracking

from services.chassis.errors import TRANSIENT_STORE_ERRORS
from services.intake.projections import VIEW, TicketsProjection

log = logging.getLogger(__name__)


class TicketsProjector:
    def __init__(
        self,
        app: Application[Any],
        projection: TicketsProjection,
        batch_size: int = 500,
        idle_seconds: float = 0.01,
    ) -> None:
        self.app = app
        self.projection = projection
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds

    async def run(self, stopping: asyncio.Event) -> None:
        log.info("tickets projector starts after position %d", await asyncio.to_thread(self.projection.position))
        backoff = 0.2
        while not stopping.is_set():
            try:
                applied = await asyncio.to_thread(self.step)
                backoff = 0.2
                if not applied:
                    await _sleep_unless(stopping, self.idle_seconds)
            except TRANSIENT_STORE_ERRORS as error:
                log.warning("tickets projector: store unavailable, retrying: %r", error)
                await _sleep_unless(stopping, backoff)
                backoff = min(backoff * 2, 5.0)

    def catch_up(self) -> int:
        """Apply everything the store holds now; how many notifications were read."""
        total = 0
        while applied := self.step():
            total += applied
        return total

    def step(self) -> int:
        """Apply the next batch after the view's position; how many notifications it held."""
        notifications = self.app.recorder.select_notifications(self.projection.position() + 1, self.batch_size)
        if not notifications:
            return 0
        events = [(self.app.mapper.to_domain_event(n), n.id) for n in notifications]
        last = notifications[-1].id
        try:
            self.projection.apply(events, Tracking(VIEW, last))
        except IntegrityError:
            if self.projection.position() < last:
                raise  # not a duplicate: a bug, which must not be skipped
            # Another projector (a second replica) recorded this batch first: its rows
            # are there, and the next step starts after them.
            log.info("tickets projector: batch ending at %d applied elsewhere", last)
        return len(notifications)


async def _sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
