"""A read that must show the writes acknowledged before it waits for its view, a moment at most."""

from __future__ import annotations

import time

import pytest

from services.chassis.storage.catching_up import ViewBehind, view_holds_the_store, view_reaches


async def test_a_read_waits_until_the_view_holds_what_the_store_held() -> None:
    started = time.monotonic()
    applied = iter([3, 4, 5, 7])

    await view_holds_the_store(lambda: next(applied), lambda: 7, patience=2.0, what="agent load")

    assert next(applied, None) is None  # it looked until the view held position 7, and no further
    assert time.monotonic() - started < 1.0


async def test_an_empty_store_is_held_by_any_view() -> None:
    await view_holds_the_store(lambda: 0, lambda: None, patience=0.0, what="agent load")


async def test_a_view_that_stays_behind_is_answered_503_with_retry_after() -> None:
    with pytest.raises(ViewBehind) as behind:
        await view_reaches(lambda: 3, 9, patience=0.05, what="the ticket list", min_position=9)

    assert behind.value.status == 503
    assert behind.value.headers() == {"Retry-After": "1"}
    assert behind.value.detail == "the ticket list has not reached position 9 yet; retry shortly"
    assert behind.value.extra == {"min_position": 9}
