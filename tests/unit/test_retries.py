"""A worker that fails backs off: doubling delays with jitter, only for the errors it names."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from services.chassis.messaging.outbox import retry_delay
from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.retries import Backoff, delay_after, retry_async, retry_sync


def test_a_delay_doubles_per_failure_and_never_falls_below_its_schedule() -> None:
    for failures, schedule in ((1, 0.2), (2, 0.4), (3, 0.8), (4, 1.6)):
        delays = {delay_after(failures, 0.2, 5.0) for _ in range(50)}
        assert all(schedule <= d <= schedule + 0.2 for d in delays)
        assert len(delays) > 1, "jitter: workers that failed together do not return together"


def test_a_delay_stops_growing_at_its_maximum_but_keeps_its_jitter() -> None:
    assert all(5.0 <= delay_after(30, 0.2, 5.0) <= 5.2 for _ in range(50))


def test_a_worker_that_succeeds_again_starts_its_backoff_over() -> None:
    backoff = Backoff(initial=1.0, maximum=60.0)
    delays = [backoff.failed() for _ in range(3)]
    assert [low <= d <= low + 1.0 for d, low in zip(delays, (1.0, 2.0, 4.0), strict=True)] == [True] * 3
    backoff.succeeded()
    assert 1.0 <= backoff.failed() <= 2.0


def test_an_outbox_message_waits_its_base_doubling_per_failed_attempt() -> None:
    assert 2.0 <= retry_delay(2.0, 1) <= 4.0
    assert 16.0 <= retry_delay(2.0, 4) <= 18.0
    assert 3600.0 <= retry_delay(2.0, 40) <= 3602.0


def test_a_store_that_is_away_is_waited_for_and_each_retry_is_reported() -> None:
    failures = [sqlite3.OperationalError("database is locked")] * 2
    reported: list[float] = []

    async def apply() -> str:
        if failures:
            raise failures.pop()
        return "applied"

    outcome = asyncio.run(retry_async(apply, TRANSIENT_STORE_ERRORS, lambda _, s: reported.append(s), initial=0.001))
    assert outcome == "applied"
    assert len(reported) == 2


def test_an_error_not_named_transient_is_not_retried() -> None:
    calls: list[int] = []

    def apply() -> None:
        calls.append(1)
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        retry_sync(apply, TRANSIENT_STORE_ERRORS, initial=0.001)
    assert calls == [1]
