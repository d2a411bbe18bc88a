"""The process has begun to shut down: open event streams end, so that the server's graceful shutdown
does not wait on them.

Told to stop, uvicorn stops accepting connections and waits, without a time limit, for every request in
flight to finish. A Server-Sent Events response never finishes on its own, so one open ticket page held
its process's stop until whoever stopped it gave up and killed it (15 s a process in the tests, the grace
period in Kubernetes). The runtime calls `begin()` as the server's shutdown starts; every stream wrapped
in `until_draining` then ends within a fraction of a second (its client reconnects, to another replica),
while every other request still finishes as before.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import TypeVar

T = TypeVar("T")

CHECK_SECONDS = 0.25  # how soon a quiet stream notices the shutdown

_DRAINING = threading.Event()  # not an asyncio.Event: streams of any event loop (tests run several) read it


def begin() -> None:
    """The process is shutting down: open streams end."""
    _DRAINING.set()


def draining() -> bool:
    return _DRAINING.is_set()


async def until_draining(items: AsyncIterator[T]) -> AsyncIterator[T]:
    """`items` until they end or the process begins to shut down, whichever comes first (then `items` is
    closed: a stream's `finally` runs)."""
    pending: asyncio.Future[T] | None = None
    try:
        while not draining():
            if pending is None:
                pending = asyncio.ensure_future(anext(items))
            done, _ = await asyncio.wait({pending}, timeout=CHECK_SECONDS)
            if not done:
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
        closing = getattr(items, "aclose", None)
        if closing is not None:
            await closing()
