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

Reading an aggregate's events, eventsourcing composes its statement anew on every call (the table's
statement plus a clause per bound) and psycopg renders the composition to text again each time: more
CPU than the query's own round trip. `RenderedSelects` renders each shape of it once.

psycopg prepares a statement on the server by itself after its fifth run. In a pipeline psycopg 3.3 does not
check that preparation: when an earlier statement of the pipeline failed (a tracking row recorded before, as a
redelivered event's is), the server skips it, yet psycopg takes the statement as prepared on that connection,
and every later run of it there fails with `prepared statement "_pg3_N" does not exist`. eventsourcing's
recorder catches that failure inside its transaction, which then ends without the rollback that would have
cleared psycopg's record. That halted consumers after a Kafka restart redelivered what they had handled
(bench/faults.py). `CheckedPreparations` has psycopg check every preparation against its result, as it
already checks one asked for (tests/integration/test_prepared_statements.py).

After a DROP, an ALTER or a rollback psycopg forgets the connection's prepared statements and deallocates them
all on the server, at its next statement's end. When it read that result in a pipeline's last fetch (a view's
tables are set up in one; analytics' drop a table of an older version), that next statement could be one it
prepared: the deallocation took it too while psycopg took it as prepared, and its next run failed with
`prepared statement "_pg3_1" does not exist` (analytics' consumer, seconds after a restart, bench/faults.py).
`CheckedPreparations` prepares nothing while such a deallocation waits to be sent.

psycopg_pool makes a lost connection again in the background, waiting 1 s, then 2, 4, 8 s... between its
attempts while PostgreSQL is down. After PostgreSQL came back from a crash of some seconds, a pool whose
connections had all been found dead lent none until its next attempt, seconds later: a caller waited out the
pool's whole wait (5 s) and then its own retry (intake's consumer was the last caught up after every
PostgreSQL SIGKILL of bench/faults.py, 11-16 s after PostgreSQL answered). `PromptReconnection` keeps the
attempts at most `RECONNECT_SECONDS` apart (tests/integration/test_store_reconnects.py).
"""

from __future__ import annotations

import select
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InterfaceError,
    ProcessRecorder,
    StoredEvent,
)
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresFactory
from eventsourcing.utils import Environment, EnvType, retry
from psycopg import Connection, OperationalError
from psycopg._preparing import Key, Prepare, PrepareManager
from psycopg._queries import PostgresQuery
from psycopg.sql import SQL
from psycopg_pool import ConnectionPool
from psycopg_pool import pool as psycopg_pools
from psycopg_pool.base import AttemptWithBackoff

from services.chassis.storage import breaker
from services.chassis.storage.setting_up import once_the_store_answers

RECONNECT_SECONDS = 1.0  # the longest a pool waits between two attempts to make a lost connection again


class PromptReconnection(AttemptWithBackoff):
    """psycopg_pool's wait between its attempts to make a lost connection again, never over `RECONNECT_SECONDS`:
    a store that comes back is used within a second, not at the end of a wait that doubled all the while it
    was down (a refused connection costs the server nothing).

    The same class paces a caller's checks of the idle connections it is lent: each one found dead cost that
    caller the first wait (1 s) before it was lent the next, so after a PostgreSQL crash a pool holding five dead
    connections made its caller wait out its whole 5 s (intake's consumer, 3.6 s after PostgreSQL answered:
    bench/faults.py with --logs). A first wait of a tenth of a second goes through them at once."""

    INITIAL_DELAY = 0.1

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, RECONNECT_SECONDS)


psycopg_pools.AttemptWithBackoff = PromptReconnection  # type: ignore[attr-defined]  # what the pool's attempts are made of


class CheckedPreparations(PrepareManager):
    """psycopg's record of a connection's prepared statements, which checks a preparation psycopg made by itself
    (after a statement's fifth run) against its result, as psycopg does one asked for: one the server skipped
    is forgotten, and prepared again at the statement's next run. And which prepares nothing while a
    deallocation of every statement is yet to be sent: that deallocation would take the new one too."""

    def get(self, query: PostgresQuery, prepare: bool | None = None) -> tuple[Prepare, bytes]:
        prep, name = super().get(query, prepare)
        if prep is Prepare.SHOULD and None in self._to_flush:  # None: every statement (DEALLOCATE ALL)
            return Prepare.NO, b""  # run unprepared this once; prepared at a later run
        return prep, name

    def maybe_add_to_cache(self, query: PostgresQuery, prep: Prepare, name: bytes) -> Key | None:
        key = super().maybe_add_to_cache(query, prep, name)
        return self.key(query) if key is None and prep is Prepare.SHOULD else key


def checking_preparations(configure: Callable[[Connection[Any]], None] | None) -> Callable[[Connection[Any]], None]:
    """The pool's set-up of a new connection (`configure`), which also has it check every preparation."""

    def set_up(conn: Connection[Any]) -> None:
        conn._prepared = CheckedPreparations()
        if configure is not None:
            configure(conn)

    return set_up


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
    its pool checks connections with `check_unless_quiet` instead of a ping each; its connections check
    every preparation of a statement; a breaker stands before its connections (breaker.py)."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        # Like the check, psycopg_pool takes its connections' set-up only when built (by eventsourcing, above).
        self.datastore.pool._configure = checking_preparations(self.datastore.pool._configure)
        if self.datastore.pre_ping:
            # psycopg_pool takes its check only when built (eventsourcing builds it, unopened, above);
            # tests/integration/test_postgres_pool.py fails should this attribute change.
            self.datastore.pool._check = check_unless_quiet
        breaker.guard(self.datastore)  # a store that is away is told at once (breaker.py)

    # Each recorder is made (it reads the server's types, then makes its tables) waiting for a PostgreSQL that
    # does not answer yet (setting_up.py): a process that started while it was down used to end there.
    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        return once_the_store_answers(partial(super().aggregate_recorder, purpose), self._of)

    def application_recorder(self) -> ApplicationRecorder:
        return once_the_store_answers(super().application_recorder, self._of)

    def tracking_recorder(self, tracking_recorder_class: type[Any] | None = None) -> Any:
        return once_the_store_answers(partial(super().tracking_recorder, tracking_recorder_class), self._of)

    def process_recorder(self) -> ProcessRecorder:
        return once_the_store_answers(super().process_recorder, self._of)

    @property
    def _of(self) -> str:
        return f"the store {self.env.name!r}"


_Shape = tuple[bool, bool, bool, bool]  # bounded below, bounded above, descending, limited


class RenderedSelects(PostgresAggregateRecorder):
    """eventsourcing's `select_events`, the same statement and rows, each shape of it rendered once."""

    @retry((InterfaceError, StoreOperationalError), max_attempts=10, wait=0.2)
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        rendered: dict[_Shape, bytes] = self.__dict__.setdefault("_rendered_selects", {})
        shape = (gt is not None, lte is not None, desc, limit is not None)
        if (statement := rendered.get(shape)) is None:
            statement = rendered[shape] = self._select_statement(shape)
        params = [originator_id, *(bound for bound in (gt, lte, limit) if bound is not None)]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [
                StoredEvent(row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"]))
                for row in curs.fetchall()
            ]

    def _select_statement(self, shape: _Shape) -> bytes:
        """The statement eventsourcing composes for `shape`, as text."""
        bounded_below, bounded_above, desc, limited = shape
        statement = self.select_events_statement
        if bounded_below:
            statement += SQL(" AND originator_version > %s")
        if bounded_above:
            statement += SQL(" AND originator_version <= %s")
        statement += SQL(" ORDER BY originator_version") + SQL(" DESC" if desc else " ASC")
        if limited:
            statement += SQL(" LIMIT %s")
        with self.datastore.get_connection() as conn:
            return statement.as_bytes(conn)
