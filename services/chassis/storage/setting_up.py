"""A service's tables made at its start, waiting for a store that does not answer yet.

A process started while PostgreSQL is down or restarting (an orchestrator starts everything at once;
a crash of PostgreSQL as a service restarts) used to end on its first `CREATE TABLE`, and was then
started again with a back-off of the orchestrator's (bench/faults.py saw analytics' consumer exit so).
Now its set-up is retried, a second apart at most, for `PATIENCE_SECONDS`; only a store that stays away
that long ends the start, with its error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.retries import STORE_RETRY_SECONDS, retry_sync

log = logging.getLogger(__name__)

PATIENCE_SECONDS = 60.0

T = TypeVar("T")


def once_the_store_answers(set_up: Callable[[], T], what: str) -> T:
    """`set_up()`, retried while the store does not answer (for PATIENCE_SECONDS at most)."""

    def waiting(error: BaseException, seconds: float) -> None:
        log.warning("%s: the store does not answer, trying again in %.1fs: %r", what, seconds, error)

    return retry_sync(
        set_up, TRANSIENT_STORE_ERRORS, waiting, initial=0.2, maximum=STORE_RETRY_SECONDS, patience=PATIENCE_SECONDS
    )
