"""Reading one's own writes from a read model that follows its store a moment behind.

A view is applied by a projector after the store's commit, so a read right after an acknowledged
write (an admin's page redirected after a save) may not hold it yet. A route that must show what was
written before it waits, briefly, until the view has reached a store position; past its patience it
answers 503 with Retry-After rather than an answer that leaves the write out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.application import Application

from services.chassis.http.problems import DomainProblem

FIRST_PAUSE = 0.005  # seconds; doubled after each look, up to LONGEST_PAUSE
LONGEST_PAUSE = 0.1


class ViewBehind(DomainProblem):
    status = 503
    title = "View behind"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


async def view_reaches(
    position: Callable[[], int],
    target: int,
    patience: float,
    what: str,
    behind: type[ViewBehind] = ViewBehind,
    **extra: Any,
) -> None:
    """Return once the view's `position` (read in a thread) is at `target` or past it; raise `behind`
    (with `extra`) when it is not after `patience` seconds. `what`: the view, as the error names it."""
    deadline = time.monotonic() + patience
    pause = FIRST_PAUSE
    while await asyncio.to_thread(position) < target:
        if time.monotonic() >= deadline:
            raise behind(f"{what} has not reached position {target} yet; retry shortly", **extra)
        await asyncio.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE)


async def view_holds_the_store(
    position: Callable[[], int], stored: Callable[[], int | None], patience: float, what: str
) -> None:
    """Return once the view holds everything its store held when called (writes acknowledged before
    this read included); ViewBehind after `patience` seconds."""
    held: int | None = await asyncio.to_thread(stored)
    await view_reaches(position, held or 0, patience, what)


async def view_holds_its_topics(
    position: Callable[[], int], app: Application[Any], topics: Sequence[str], patience: float, what: str
) -> None:
    """Return once a view that applies only `topics` of `app`'s store (a projector's `topics`) holds every
    such event the store held when called; ViewBehind after `patience` seconds. Its position is the last
    event it applied, not the store's head: so the next of its events past that position (up to the head
    as called) is waited for, until there is none. A view that is caught up costs one indexed read."""
    head = await asyncio.to_thread(app.recorder.max_notification_id) or 0
    deadline = time.monotonic() + patience
    while True:
        held = await asyncio.to_thread(position)
        later = await asyncio.to_thread(app.recorder.select_notifications, held + 1, 1, head, topics)
        if not later:
            return
        await view_reaches(position, later[0].id, max(deadline - time.monotonic(), 0.0), what)
