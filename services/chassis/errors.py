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
