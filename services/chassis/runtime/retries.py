"""Backing off after failures, one way for the whole desk: exponential delays with jitter.

A delay doubles from `initial` after each consecutive failure, up to `maximum`, plus a random
part of up to `initial` so that workers which failed together (a store or Kafka that went away
under all of them) do not all come back in the same instant. The jitter only lengthens a delay.

Two shapes of retrying: `retry_async`/`retry_sync` call one thing until it succeeds, retrying
only the errors named; `Backoff` paces a worker's endless loop, which handles its own errors
(logging, metrics, a producer to restart) and waits `failed()` seconds before its next step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    stop_never,
    wait_exponential,
    wait_random,
)
from tenacity.wait import wait_base

T = TypeVar("T")

Errors = type[BaseException] | tuple[type[BaseException], ...]
OnRetry = Callable[[BaseException, float], None]  # the error, and the seconds before the next attempt


def exponential_jitter(initial: float, maximum: float) -> wait_base:
    """`initial`, doubling per consecutive failure up to `maximum`, plus up to `initial` at random."""
    return wait_exponential(multiplier=initial, max=maximum) + wait_random(0, initial)


def delay_after(failures: int, initial: float, maximum: float) -> float:
    """Seconds to wait after the `failures`-th consecutive failure (the first waits about `initial`)."""
    state = RetryCallState(retry_object=Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = max(failures, 1)
    return float(exponential_jitter(initial, maximum)(state))


# The longest a worker waits between two tries of a store that is away. A store that is down refuses at once
# (services/chassis/storage/breaker.py), so trying each second costs nothing, and once it is back a worker goes
# on within a second: with 5 s, intake's consumer was the last caught up after every PostgreSQL SIGKILL of
# bench/faults.py, seconds after PostgreSQL answered. (Kafka's, the same: relay.py KAFKA_RETRY_SECONDS.)
STORE_RETRY_SECONDS = 1.0


class Backoff:
    """The pace of a worker loop: consecutive failures so far, and how long to wait after the latest."""

    def __init__(self, initial: float = 0.2, maximum: float = 5.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def succeeded(self) -> None:
        self.failures = 0

    @classmethod
    def for_store(cls) -> Backoff:
        """The pace of a worker retrying a store that is away."""
        return cls(initial=0.2, maximum=STORE_RETRY_SECONDS)

    def failed(self) -> float:
        """Count one more failure; the seconds to wait before trying again."""
        self.failures += 1
        return delay_after(self.failures, self.initial, self.maximum)


def _before_sleep(on_retry: OnRetry | None) -> Callable[[RetryCallState], None]:
    def report(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        seconds = state.next_action.sleep if state.next_action is not None else 0.0
        if on_retry is not None and error is not None:
            on_retry(error, seconds)

    return report


async def retry_async(
    call: Callable[[], Awaitable[T]], errors: Errors, on_retry: OnRetry | None = None,
    initial: float = 0.2, maximum: float = 5.0,
) -> T:  # fmt: skip
    """`await call()` until it returns, retrying `errors` (others propagate at once), for as long as it takes."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(errors), wait=exponential_jitter(initial, maximum),
        before_sleep=_before_sleep(on_retry), reraise=True,
    )  # fmt: skip
    result: T = await retrying(call)
    return result


def retry_sync(
    call: Callable[[], T], errors: Errors, on_retry: OnRetry | None = None, initial: float = 0.2, maximum: float = 5.0,
    patience: float | None = None,
) -> T:  # fmt: skip
    """`call()` until it returns, retrying `errors` (others propagate at once), for as long as it takes (or,
    given `patience`, until that many seconds have passed: then the last error propagates)."""
    retrying = Retrying(
        retry=retry_if_exception_type(errors), wait=exponential_jitter(initial, maximum),
        stop=stop_never if patience is None else stop_after_delay(patience),
        before_sleep=_before_sleep(on_retry), reraise=True,
    )  # fmt: skip
    return retrying(call)
