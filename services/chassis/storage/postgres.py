"""eventsourcing's PostgreSQL factory, its pooled connections pinged only when they were idle a while.

A pool that pings every connection it hands out (POSTGRES_PRE_PING) pays a round trip, and the
server a statement, on every checkout: several a consumer's batch, more a request. A connection the
pool handed out a moment ago was alive a moment ago; one that sat idle may have outlived its server
(a PostgreSQL restart leaves every idle connection dead, and read models kept getting those before
the ping: tests/integration/test_faults.py). So a connection is pinged when it was last handed out
more than `IDLE_SECONDS` ago; a server that crashes and is back within that time can still hand one
dead connection to a caller, which fails as a lost connection does (the recorders and the consumers
retry those) and is discarded by the pool.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from eventsourcing.postgres import ConnectionPool, PostgresFactory
from eventsourcing.utils import Environment, EnvType

IDLE_SECONDS = 1.0
_HANDED_OUT = "_desk_handed_out_at"


def ping_when_idle(connection: Any) -> None:
    """The pool's check: ping a connection not handed out within `IDLE_SECONDS`."""
    now = monotonic()
    if now - getattr(connection, _HANDED_OUT, float("-inf")) > IDLE_SECONDS:
        ConnectionPool.check_connection(connection)
    setattr(connection, _HANDED_OUT, now)


class DeskPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL factory (the same environment variables); with POSTGRES_PRE_PING its
    pool pings only the connections idle a while (`ping_when_idle`)."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        if pool._check is not None:  # psycopg_pool keeps the check it was given here, and calls it if set
            pool._check = ping_when_idle
