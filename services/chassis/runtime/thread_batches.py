"""Blocking work asked for from the event loop, taken to a worker thread in batches: what is asked
while one batch is in its thread goes together in the next, in the order asked, so that N requests
arriving at once cost one thread hop (and one round trip, where the work can share one), not N.

One request alone waits for no other: it goes at the loop's next turn, with whatever joined it by then.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Generic, TypeVar

R = TypeVar("R")
T = TypeVar("T")


class ThreadBatches(Generic[R, T]):
    def __init__(
        self, run: Callable[[Sequence[R]], Sequence[T | BaseException]], executor: Executor | None = None
    ) -> None:
        """`run(requests)`, in a worker thread, carries out `requests` in order and answers one outcome each:
        its result, or the error to raise for it alone (an error `run` raises is every request's). The thread
        is the loop's shared pool's, or `executor`'s: work that must not queue behind the pool's other jobs."""
        self.run = run
        self.executor = executor
        self._queue: list[tuple[R, asyncio.Future[T]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def __call__(self, request: R) -> T:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()
        self._queue.append((request, answer))
        if self._draining is None or self._draining.done() or self._draining.get_loop() is not loop:
            self._draining = loop.create_task(self._drain(), context=contextvars.Context())  # no request's own
        return await answer

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                outcomes = await self._in_thread([request for request, _ in batch])
            except Exception as error:  # noqa: BLE001 - the batch's failure is every request's in it
                outcomes = [error] * len(batch)
            except BaseException:  # cancelled (the loop is closing): so is every request waiting
                for _, answer in batch:
                    answer.cancel()
                raise
            for (_, answer), outcome in zip(batch, outcomes, strict=True):
                if answer.done():  # its request was cancelled meanwhile
                    continue
                if isinstance(outcome, BaseException):
                    answer.set_exception(outcome)
                else:
                    answer.set_result(outcome)

    async def _in_thread(self, requests: list[R]) -> Sequence[T | BaseException]:
        if self.executor is None:
            return await asyncio.to_thread(self.run, requests)
        context = contextvars.copy_context()  # as asyncio.to_thread carries it
        return await asyncio.get_running_loop().run_in_executor(self.executor, context.run, self.run, requests)
