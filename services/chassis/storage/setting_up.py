"""A service's tables made at its start, waiting for a store that does not answer yet.

A process started while PostgreSQL is down or restarting (an orchestrator starts everything at once;
a crash of PostgreSQL as a service restarts) used to end on its first `CREATE TABLE`, and was then
started again with a back-off of the orchestrator's (bench/faults.py saw analytics' consumer exit so).
Now its set-up is retried, a second apart at most, for `PATIENCE_SECONDS`; only a store that stays away
that long ends the start, with its error.

So is a set-up that raced another process's: two processes of one service started at the same instant (a
consumer and a relay restarted together) make the same tables and replace the same function at once, and
PostgreSQL refuses one of them ("tuple concurrently updated", or a duplicate key of its own catalog). Done
again a moment later, it finds the other's work done (bench/faults.py saw routing's relay exit so). Services
that share a fresh database race so too (routing and SLA both make the what-if jobs' table): one found no
relation of the name, then the other's committed relation or row type, and was refused with "relation …" or
"type … already exists".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import psycopg

from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.retries import STORE_RETRY_SECONDS, retry_sync

log = logging.getLogger(__name__)

PATIENCE_SECONDS = 60.0

T = TypeVar("T")


class SetUpRaced(Exception):
    """Another process made the same tables or function at the same instant, and PostgreSQL refused ours."""


def once_the_store_answers(set_up: Callable[[], T], what: str) -> T:
    """`set_up()`, retried while the store does not answer, or after a race with another process's set-up
    (for PATIENCE_SECONDS at most)."""

    def waiting(error: BaseException, seconds: float) -> None:
        said = "raced another process's set-up" if isinstance(error, SetUpRaced) else "the store does not answer"
        log.warning("%s: %s, trying again in %.1fs: %r", what, said, seconds, error.__cause__ or error)

    return retry_sync(
        partial(_told_apart, set_up), (*TRANSIENT_STORE_ERRORS, SetUpRaced), waiting,
        initial=0.2, maximum=STORE_RETRY_SECONDS, patience=PATIENCE_SECONDS,
    )  # fmt: skip


def _told_apart(set_up: Callable[[], T]) -> T:
    """`set_up`, its refusal for racing another process's set-up raised as `SetUpRaced` (worth a retry)."""
    try:
        return set_up()
    except Exception as error:
        if raced(error):
            raise SetUpRaced(str(error)) from error
        raise


def raced(error: BaseException | None) -> bool:
    """Whether `error` (or what it wraps: eventsourcing wraps psycopg's errors) is PostgreSQL refusing DDL
    that another transaction did at the same instant: a catalog row updated under it, a catalog's unique
    index (`pg_type_typname_nsp_index`, `pg_class_relname_nsp_index`) already holding the name, or the other's
    relation or row type committed between our `IF NOT EXISTS` look for the name and our making of it.

    A name truly taken by something else is refused the same way every time, and ends the start once the
    retries' patience is spent, with PostgreSQL's error."""
    while error is not None:
        if isinstance(error, psycopg.errors.InternalError_) and "tuple concurrently updated" in str(error):
            return True
        if isinstance(error, psycopg.errors.UniqueViolation) and (error.diag.constraint_name or "").startswith("pg_"):
            return True
        if isinstance(error, psycopg.errors.DuplicateTable) or (
            isinstance(error, psycopg.errors.DuplicateObject) and str(error).startswith("type ")
        ):
            return True
        error = error.__cause__
    return False
