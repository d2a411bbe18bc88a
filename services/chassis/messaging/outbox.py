"""What every outbox worker shares: a table of messages to send, updated row by row as attempts
end, drained by a loop that backs off exponentially per message and waits out a store that is away.

An outbox row is written exactly once, in the transaction that records the upstream position
it answers (see `views.SqlView.transaction`); the worker then sends it at least once and keeps
each attempt's outcome on the row. Intake's webhooks and its notifications are both built on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.pacing import sleep_unless
from services.chassis.runtime.retries import Backoff, delay_after
from services.chassis.storage.views import SqlView

log = logging.getLogger(__name__)

MAX_RETRY_SECONDS = 3600.0


def retry_delay(base_seconds: float, attempts: int, cap: float = MAX_RETRY_SECONDS) -> float:
    """How long to wait after the `attempts`-th failed attempt: `base`, doubling, at most `cap`, with jitter."""
    return delay_after(attempts, base_seconds, cap)


class OutboxTable:
    """One outbox table on a read-model store; rows are changed only through `record`."""

    def __init__(self, view: SqlView, table: str) -> None:
        self.view = view
        self.table = table

    def record(self, row_id: str, **columns: Any) -> None:
        """Set `columns` of one row (an attempt's outcome), in a transaction of its own."""
        assignments = ", ".join(f"{column} = :{column}" for column in columns)
        with self.view.transaction() as sql:
            sql.execute(f"UPDATE {self.table} SET {assignments} WHERE id = :id", columns | {"id": row_id})


async def drain(
    stopping: asyncio.Event, name: str, step: Callable[[], Awaitable[int]], idle_seconds: float = 0.1
) -> None:
    """Run `step` (send what is due; how many it handled) until `stopping`, idling when nothing was due."""
    backoff = Backoff(initial=1.0, maximum=5.0)
    while not stopping.is_set():
        try:
            handled = await step()
            backoff.succeeded()
            if not handled:
                await sleep_unless(stopping, idle_seconds)
        except TRANSIENT_STORE_ERRORS as error:
            log.warning("%s: store unavailable, retrying: %r", name, error)
            await sleep_unless(stopping, backoff.failed())
