"""Which infrastructure failures are worth retrying: the store or broker is away, not broken."""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError

TRANSIENT_STORE_ERRORS: tuple[type[Exception], ...] = (
    InterfaceError,
    OperationalError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    sqlite3.OperationalError,
)


class CommandRefusedError(Exception):
    """A command the domain refuses: answered 422 problem+json naming `field` (the input or rule at fault)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownThingError(CommandRefusedError):
    """A command or query names something that does not exist (for this tenant): answered 404."""
