"""Blocking work asked for at once from the event loop goes to a worker thread together, in order."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.chassis.runtime.thread_batches import ThreadBatches


class Refused(Exception):
    pass


def test_requests_asked_at_once_share_one_thread_hop_in_the_order_asked() -> None:
    batches: list[list[int]] = []
    loop_thread = threading.get_ident()

    def double(numbers: Sequence[int]) -> list[int | BaseException]:
        assert threading.get_ident() != loop_thread, "off the event loop"
        batches.append(list(numbers))
        return [n * 2 for n in numbers]

    async def scenario() -> list[int]:
        doubling = ThreadBatches(double)
        return await asyncio.gather(*(doubling(n) for n in range(5)))

    assert asyncio.run(scenario()) == [0, 2, 4, 6, 8]
    assert batches == [[0, 1, 2, 3, 4]]


def test_one_request_refused_in_a_batch_leaves_the_others_their_answers() -> None:
    def checked(numbers: Sequence[int]) -> list[int | BaseException]:
        return [Refused(f"{n} is odd") if n % 2 else n for n in numbers]

    async def scenario() -> list[int | BaseException]:
        checking = ThreadBatches(checked)
        return await asyncio.gather(*(checking(n) for n in range(3)), return_exceptions=True)

    even, odd, two = asyncio.run(scenario())
    assert (even, two) == (0, 2)
    assert isinstance(odd, Refused)


def test_a_batch_that_fails_fails_every_request_in_it_and_the_next_batch_runs_afresh() -> None:
    calls: list[list[str]] = []

    def flaky(names: Sequence[str]) -> list[str | BaseException]:
        calls.append(list(names))
        if len(calls) == 1:
            raise ConnectionError("the store does not answer")
        return [name.upper() for name in names]

    async def scenario() -> str:
        shouting = ThreadBatches(flaky)
        failed = await asyncio.gather(shouting("ann"), shouting("bob"), return_exceptions=True)
        assert all(isinstance(error, ConnectionError) for error in failed)
        return await shouting("cid")

    assert asyncio.run(scenario()) == "CID"
    assert calls == [["ann", "bob"], ["cid"]]


def test_a_request_alone_is_not_held_back() -> None:
    async def scenario() -> str:
        alone: ThreadBatches[str, str] = ThreadBatches(lambda names: [f"hello {name}" for name in names])
        return await asyncio.wait_for(alone("ann"), timeout=5)

    assert asyncio.run(scenario()) == "hello ann"


@pytest.mark.parametrize("count", [1, 50])
def test_every_request_is_answered_whatever_the_batches(count: int) -> None:
    async def scenario() -> list[int]:
        echo: ThreadBatches[int, int] = ThreadBatches(lambda numbers: list(numbers))
        first = [asyncio.ensure_future(echo(n)) for n in range(count)]
        await asyncio.sleep(0)
        later = [asyncio.ensure_future(echo(n)) for n in range(count, 2 * count)]
        return list(await asyncio.gather(*first, *later))

    assert asyncio.run(scenario()) == list(range(2 * count))


def test_work_given_a_thread_of_its_own_is_not_queued_behind_the_shared_pool() -> None:
    """The record of a mail the server accepted must not wait for the other mails' composing (mailer.py)."""
    released = threading.Event()

    async def scenario() -> str:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(2) as shared, ThreadPoolExecutor(1) as own:
            loop.set_default_executor(shared)
            busy = [asyncio.ensure_future(asyncio.to_thread(released.wait, 10)) for _ in range(4)]  # queued too
            recording: ThreadBatches[str, str] = ThreadBatches(lambda ids: [f"{i} sent" for i in ids], own)
            try:
                return await asyncio.wait_for(recording("mail-1"), timeout=5)
            finally:
                released.set()
                await asyncio.gather(*busy)

    assert asyncio.run(scenario()) == "mail-1 sent"
