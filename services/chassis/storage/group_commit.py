"""Group commit: concurrent commands on one key share one transaction.

A store commits one transaction at a time, so N commands on a hot aggregate (a
tenant's ticket-number counter) cost N round trips and N flushes when run one by
one, and collide when run at once. Here each caller queues its request; whoever
holds the key's lock takes everything queued so far and commits it as one batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
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
        (outcome,) = self.submit_each(key, [request])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def submit_each(self, key: K, requests: Sequence[R]) -> list[T | BaseException]:
        """Commit `requests` (queued together, so they share a batch unless it is full); one outcome each,
        its result or the error of the batch that held it."""
        slots: list[_Slot[R, T]] = [_Slot(request) for request in requests]
        with self._guard:
            self._queues.setdefault(key, []).extend(slots)
            lock = self._locks.setdefault(key, threading.Lock())
        while not all(slot.done for slot in slots):
            with lock:
                if not all(slot.done for slot in slots):
                    self._commit_queued(key)
        return [slot.error if slot.error is not None else slot.result for slot in slots]  # type: ignore[misc]

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
