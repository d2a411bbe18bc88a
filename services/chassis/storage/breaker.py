"""A store that is away is told at once, not after the pool's whole wait for a connection.

While PostgreSQL is down, psycopg_pool makes every caller wait its whole timeout for a connection it
cannot make (5 s), and eventsourcing's recorders retry that ten times: a request to the gateway then
took longer than its client waited, and the client saw its connection dropped, not the 503 the API
answers for a store that does not answer. So once the pool failed to lend a connection, or lent one
that broke under its user, and a fresh connection cannot be made either, the store is down: every
caller is refused at once (the error a broken connection raises, which the API answers 503 with
Retry-After and the workers retry), and at most one caller every `PROBE_SECONDS` tries a fresh
connection, whose success ends it. A pool that timed out only because it was busy is not down: its
probe connects. The pool checks a connection before it lends it and drops a dead one unseen, so its
callers would only wait, and no broken connection would trip the breaker: a caller waits for a
connection in slices of `WAIT_SLICE`, and after each empty one the breaker is asked (one probe every
`PROBE_SECONDS` among them), so the wait ends within a slice of the store going away.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, cast

import psycopg
from eventsourcing.persistence import OperationalError
from eventsourcing.postgres import PostgresDatastore
from psycopg_pool import PoolTimeout

log = logging.getLogger(__name__)
PROBE_SECONDS = 0.5  # how often a caller tries a fresh connection while the store is down
PROBE_TIMEOUT = 2  # seconds a probe waits to connect (a refused connection fails at once)
WAIT_SLICE = 0.5  # seconds a caller waits for a pooled connection before it looks at the breaker again


class StoreDownError(OperationalError):
    """The store did not answer moments ago and no fresh connection has been made since."""


class StoreBreaker:
    def __init__(self, probe: Callable[[], None]) -> None:
        self.probe = probe
        self.down = False
        self.next_probe = 0.0
        self._lock = threading.Lock()

    def admit(self) -> None:
        """Let a caller go on to the pool, or refuse it at once while the store is down."""
        if not self.down:
            return
        with self._lock:
            now = time.monotonic()
            if now < self.next_probe:
                raise StoreDownError("the store is down: it did not answer moments ago")
            self.next_probe = now + PROBE_SECONDS
        self._try()

    def suspect(self) -> None:
        """No connection was lent within a slice of the pool's wait: refused at once if the store is
        down; else one caller every `PROBE_SECONDS` tries a fresh connection (a busy pool's connects)."""
        if self.down:
            raise StoreDownError("the store is down: it did not answer moments ago")
        with self._lock:
            now = time.monotonic()
            if now < self.next_probe:
                return
            self.next_probe = now + PROBE_SECONDS
        self._try()

    def failed(self) -> None:
        """The pool lent no connection, or one broke: down unless a fresh one can be made."""
        if not self.down:
            self._try()

    def _try(self) -> None:
        try:
            self.probe()
        except psycopg.Error as error:
            if not self.down:
                log.warning("the store is down: %r", error)
            self.down, self.next_probe = True, time.monotonic() + PROBE_SECONDS
            raise StoreDownError(f"the store is down: {error}") from error
        if self.down:
            log.warning("the store answers again")
        self.down = False


def guard(datastore: PostgresDatastore) -> StoreBreaker:
    """Put a breaker before `datastore`'s connections (its `get_connection`, which every recorder,
    view and `transaction` of it calls)."""
    pool = datastore.pool
    real: Callable[[], AbstractContextManager[Any]] = datastore.get_connection

    def probe() -> None:
        kwargs = cast(dict[str, Any], pool.kwargs) | {"connect_timeout": PROBE_TIMEOUT}
        psycopg.connect(cast(str, pool.conninfo), **kwargs).close()

    breaker = StoreBreaker(probe)
    lend: Callable[..., Any] = pool.getconn

    def getconn(timeout: float | None = None) -> Any:
        deadline = time.monotonic() + (pool.timeout if timeout is None else timeout)
        while True:
            remaining = deadline - time.monotonic()
            try:
                return lend(timeout=max(min(WAIT_SLICE, remaining), 0.001))
            except PoolTimeout:
                if remaining <= WAIT_SLICE:
                    raise
                breaker.suspect()

    pool.getconn = getconn  # type: ignore[method-assign]

    @contextmanager
    def get_connection() -> Iterator[Any]:
        breaker.admit()
        connection: Any = None
        try:
            with real() as connection:
                yield connection
        except OperationalError as error:
            lent_none = connection is None and isinstance(error.__cause__, PoolTimeout)
            if lent_none or (connection is not None and (connection.broken or connection.closed)):
                with contextlib.suppress(StoreDownError):  # the caller's own error tells it
                    breaker.failed()
            raise

    datastore.get_connection = get_connection  # type: ignore[method-assign]
    return breaker
