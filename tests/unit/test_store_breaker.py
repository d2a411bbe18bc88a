"""The breaker before a store's connections: a caller that waited a slice for a pooled connection asks
whether the store is away, and one probe among such callers tells."""

from __future__ import annotations

import psycopg
import pytest

from services.chassis.storage.breaker import StoreBreaker, StoreDownError


def test_a_caller_left_waiting_for_a_connection_learns_the_store_is_down() -> None:
    probes: list[int] = []

    def refused() -> None:
        probes.append(1)
        raise psycopg.OperationalError("connection refused")

    breaker = StoreBreaker(refused)
    with pytest.raises(StoreDownError):
        breaker.suspect()
    assert breaker.down
    with pytest.raises(StoreDownError):  # the next caller is refused at once, not probing again
        breaker.suspect()
    assert len(probes) == 1


def test_a_busy_pool_is_not_a_store_that_is_down_and_is_probed_once_in_a_while() -> None:
    probes: list[int] = []
    breaker = StoreBreaker(lambda: probes.append(1))
    breaker.suspect()
    breaker.suspect()  # within PROBE_SECONDS of the first: no second probe
    assert not breaker.down
    assert len(probes) == 1
