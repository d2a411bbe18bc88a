"""Group commit: concurrent commands on one key share one transaction.

A store commits one transaction at a time, so N commands on a hot aggregate (a
tenant's ticket-number counter) cost N round trips and N flushes when run one by
one, and collide when run at once. Here each caller queues its request; whoever
holds the key's lock takes everything queued so far and commits it as one batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")
T = TypeVar("T")


@dataclass
class _Slot(Generic[R, T]):
    request: R
    done: bool = False
    result: T | None = None
    error: BaseException | None = None


class GroupCommit(Generic[K, R, T]):
    def __init__(self, commit: Callable[[K, list[R]], list[T]], max_batch: int = 100) -> None:
        """`commit(key, requests)` commits all of `requests` at once and returns one result each."""
        self.commit = commit
        self.max_batch = max_batch
        self._guard = threading.Lock()
        self._queues: dict[K, list[_Slot[R, T]]] = {}
        self._locks: dict[K, threading.Lock] = {}

    def submit(self, key: K, request: R) -> T:
        slot: _Slot[R, T] = _Slot(request)
        with self._guard:
            self._queues.setdefault(key, []).append(slot)
            lock = self._locks.setdefault(key, threading.Lock())
        while not slot.done:
            with lock:
                if not slot.done:
                    self._commit_queued(key)
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _commit_queued(self, key: K) -> None:
        with self._guard:
            queue = self._queues[key]
            batch, self._queues[key] = queue[: self.max_batch], queue[self.max_batch :]
        try:
            results = self.commit(key, [slot.request for slot in batch])
        except BaseException as error:  # noqa: BLE001 - every caller in the batch gets the failure
            for slot in batch:
                slot.error, slot.done = error, True
            return
        for slot, result in zip(batch, results, strict=True):
            slot.result, slot.done = result, True
