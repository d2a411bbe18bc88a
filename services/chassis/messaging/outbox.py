"""What every outbox worker shares: a table of messages to send, updated row by row as attempts
end, drained by a loop that backs off exponentially per message and waits out a store that is away.
The loop sleeps until its doorbell rings: at once when rows to send were committed in this process,
or at the soonest instant a row it put off falls due; and otherwise looks again every `idle_seconds`
anyway (a row another process wrote, or a retry it set there).

An outbox row is written exactly once, in the transaction that records the upstream position
it answers (see `views.SqlView.transaction`); the worker then sends it at least once and keeps
each attempt's outcome on the row. Intake's webhooks and its notifications are both built on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
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


class Doorbell:
    """When an outbox's worker should look at its table again: `ring` (rows to send were committed) and
    `ring_at` (a row falls due at that instant) are called from any thread; the worker `wait`s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rung = False
        self._soonest = math.inf  # time.time() of the soonest instant a row falls due
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None

    def ring(self) -> None:
        with self._lock:
            self._rung = True
            loop, woken = self._loop, self._woken
        if loop is not None and woken is not None:
            with contextlib.suppress(RuntimeError):  # the worker's loop closed: nobody waits
                loop.call_soon_threadsafe(woken.set)

    def ring_at(self, instant: float) -> None:
        with self._lock:
            self._soonest = min(self._soonest, instant)

    async def wait(self, stopping: asyncio.Event, idle_seconds: float) -> None:
        """Return when rung since the last return, when the soonest row falls due, after `idle_seconds`
        at most, or at once when stopping."""
        with self._lock:
            if self._woken is None:
                self._loop, self._woken = asyncio.get_running_loop(), asyncio.Event()
            woken = self._woken
            rung, self._rung = self._rung, False
            until_due = self._soonest - time.time()
            if until_due <= idle_seconds:
                self._soonest = math.inf  # the worker looks then; later instants are rung again
            seconds = max(0.0, min(idle_seconds, until_due))
            woken.clear()
        if rung or seconds == 0.0 or stopping.is_set():
            return
        waiting = asyncio.ensure_future(woken.wait())
        stopped = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait((waiting, stopped), timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
            stopped.cancel()
        with self._lock:
            self._rung = False  # the worker looks now: what was committed so far, it will see


class OutboxTable:
    """One outbox table on a read-model store; rows are changed only through `record`. A row put off
    to a later instant (its `due_column`) rings the `doorbell` for then."""

    def __init__(self, view: SqlView, table: str, doorbell: Doorbell | None = None, due_column: str = "") -> None:
        self.view = view
        self.table = table
        self.doorbell = doorbell
        self.due_column = due_column

    def record(self, row_id: str, **columns: Any) -> None:
        """Set `columns` of one row (an attempt's outcome), in a transaction of its own."""
        self.record_many([(row_id, columns)])

    def record_many(self, changes: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Set the columns of each row (id, columns) in one transaction: a batch's outcomes, one round trip."""
        if not changes:
            return
        with self.view.transaction() as sql:
            for row_id, columns in changes:
                assignments = ", ".join(f"{column} = :{column}" for column in columns)
                sql.execute(f"UPDATE {self.table} SET {assignments} WHERE id = :id", columns | {"id": row_id})
        if self.doorbell is not None:
            for _, columns in changes:
                if self.due_column in columns:
                    self.doorbell.ring_at(float(columns[self.due_column]))


async def drain(
    stopping: asyncio.Event,
    name: str,
    step: Callable[[], Awaitable[int]],
    doorbell: Doorbell,
    idle_seconds: float = 1.0,
) -> None:
    """Run `step` (send what is due; how many it handled) until `stopping`, waiting for the doorbell
    when nothing was due."""
    backoff = Backoff.for_store()
    while not stopping.is_set():
        try:
            handled = await step()
            backoff.succeeded()
            if not handled:
                await doorbell.wait(stopping, idle_seconds)
        except TRANSIENT_STORE_ERRORS as error:
            log.warning("%s: store unavailable, retrying: %r", name, error)
            await sleep_unless(stopping, backoff.failed())
