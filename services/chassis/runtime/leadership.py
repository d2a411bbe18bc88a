"""One leader among a service's replicas, for work that must run once per store: the relay.

Consumers scale out on Kafka's partitions; a relay cannot, because a store's notification
log is one sequence and publishing it twice doubles every event. So each replica's relay
asks for a named lease and only the holder publishes; the others stand by and ask again
every second. On PostgreSQL the lease is a session advisory lock, held by a connection of
its own: when the leader dies, even by SIGKILL, its session ends and the lock is free for
the next replica. On SQLite (one machine) it is an exclusive `flock` on a file beside the
store, which the kernel releases when the process dies.

A leader that loses its lock connection stops publishing at once; it may have sent one
last batch that the new leader sends again (the new leader starts after the last position
recorded as acknowledged), which consumers drop by store position.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Protocol

import psycopg

from services.chassis.runtime.settings import Settings

log = logging.getLogger(__name__)

CHECK_SECONDS = 0.5


class Lease(Protocol):
    async def acquire(self) -> bool:
        """Take the lease if free; whether this process holds it now."""
        ...

    async def held(self) -> bool:
        """Whether the lease is still ours (False once its connection is gone)."""
        ...

    async def release(self) -> None: ...


class AdvisoryLease:
    def __init__(self, settings: Settings, name: str) -> None:
        self.settings = settings
        # pg advisory locks take a bigint: the name's first 8 hash bytes
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self.connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self.checked_at = 0.0

    async def acquire(self) -> bool:
        if self.connection is not None and await self.held():
            return True
        try:
            self.connection = await psycopg.AsyncConnection.connect(
                host=self.settings.postgres_host,
                port=self.settings.postgres_port,
                user=self.settings.postgres_user,
                password=self.settings.postgres_password,
                dbname=self.settings.postgres_dbname,
                autocommit=True,
                connect_timeout=5,
                application_name="servicedesk-lease",
            )
            cursor = await self.connection.execute("SELECT pg_try_advisory_lock(%s)", [self.key])
            row = await cursor.fetchone()
            if row is not None and row[0] is True:
                return True
        except psycopg.OperationalError as error:
            log.warning("lease: PostgreSQL unavailable: %r", error)
        await self.release()
        return False

    async def held(self) -> bool:
        """Checked against the server at most every CHECK_SECONDS (the relay asks before each batch)."""
        if self.connection is None:
            return False
        if time.monotonic() - self.checked_at < CHECK_SECONDS:
            return True
        try:
            await self.connection.execute("SELECT 1")
            self.checked_at = time.monotonic()
        except psycopg.Error:
            await self.release()
            return False
        return True

    async def release(self) -> None:
        if self.connection is not None:
            connection, self.connection = self.connection, None
            try:
                await connection.close()  # the session ends: the lock is released
            except psycopg.Error:
                log.debug("lease: close failed", exc_info=True)


class FileLease:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    async def acquire(self) -> bool:
        if self.fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    async def held(self) -> bool:
        return self.fd is not None

    async def release(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)  # closing the only descriptor drops the lock


def lease(settings: Settings, name: str) -> Lease:
    """The lease called `name` on this desk's store backend."""
    if settings.persistence == "postgres":
        return AdvisoryLease(settings, f"{settings.kafka_namespace}{name}")
    return FileLease(settings.data_dir / f"{name}.lease")
