"""eventsourcing's PostgreSQL persistence, with a pool that pings a connection only when it may be dead.

The pool checks every connection it lends (`POSTGRES_PRE_PING`): without it, after a PostgreSQL
restart, a read model's transaction kept getting the pool's dead connections
(tests/integration/test_faults.py crashes PostgreSQL). psycopg_pool's check sends an empty query:
a round trip for every checkout, five of the fourteen a ticket opened at the gateway cost.

An idle connection of the pool (autocommit, listening to nothing) is sent nothing unasked but its
end: the server's FATAL when it shuts down or terminates the backend, or the end of the stream when
the backend died (SIGKILL, a crash: the kernel closes its socket). Either makes the socket readable.
So the check here looks at the socket first, without waiting, and pings only a connection with
something to read (a closed or broken one fails at once): a dead connection is still found and
dropped, a live one costs no round trip. (A connection that dies between the check and its query
fails that query, as it could after a ping; eventsourcing's recorders retry it.)
"""

from __future__ import annotations

import select
from typing import Any

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType
from psycopg import Connection, OperationalError
from psycopg_pool import ConnectionPool


def check_unless_quiet(conn: Connection[Any]) -> None:
    """The pool's check before it lends `conn`: raise if it is dead (the pool then drops it)."""
    if conn.closed or conn.broken:
        raise OperationalError("the connection is closed")
    poll = select.poll()
    poll.register(conn.fileno(), select.POLLIN | select.POLLPRI)
    if poll.poll(0):  # the server said something (goodbye?), or the stream ended: ask it
        ConnectionPool.check_connection(conn)


class DeskPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL factory (the same environment variables); with `POSTGRES_PRE_PING`
    its pool checks connections with `check_unless_quiet` instead of a ping each."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        if self.datastore.pre_ping:
            # psycopg_pool takes its check only when built (eventsourcing builds it, unopened, above);
            # tests/integration/test_postgres_pool.py fails should this attribute change.
            self.datastore.pool._check = check_unless_quiet
