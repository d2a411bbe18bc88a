"""Waking the workers that follow a store (relays, projectors) when it commits, instead of polling.

On PostgreSQL every transaction that records events already sends `NOTIFY <events table>`
(eventsourcing's recorder does it while inserting; PostgreSQL delivers it once the transaction
committed): one connection per process and store LISTENs and wakes every follower of that store,
whichever process or replica wrote. Elsewhere (SQLite: under `make run` a service writes and relays
in one process) the application's hook after each recording wakes them.

Either way a follower still reads every `seconds` it waits when nothing woke it: a notification
lost while the LISTEN connection was down (PostgreSQL restarted), or a write made by another
process on SQLite, is picked up then. The LISTEN connection is opened again, with backoff, and
every follower reads once when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from eventsourcing.application import Application
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql

from services.chassis.runtime.retries import Backoff
from services.chassis.storage import eventsourcing_adapter

log = logging.getLogger(__name__)

PING_SECONDS = 30.0  # a LISTEN connection silent this long is asked whether it is still there
LISTENER_NAME = "servicedesk-wake"  # the LISTEN connections' application_name (pg_stat_activity)


class Wake:
    """One follower's wake-up call: set by a commit, cleared when the follower wakes."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stopping: asyncio.Event) -> None:
        self.loop = loop
        self.stopping = stopping
        self.woken = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Return once the store committed since the last return, or after `seconds` anyway, or at once
        when the follower is stopping."""
        if self.stopping.is_set():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.woken.wait()
        self.woken.clear()  # before the follower reads: a commit from now on wakes it again

    def wake(self) -> None:
        """Wake the follower; callable from any thread."""
        if _running_loop() is self.loop:
            self.woken.set()
            return
        with contextlib.suppress(RuntimeError):  # the follower's loop closed: nobody waits
            self.loop.call_soon_threadsafe(self.woken.set)


class StoreCommits:
    """The followers of one store in this process, and what tells them that it committed."""

    def __init__(self, app: Application[Any]) -> None:
        # Only what waking needs, not `app` itself: the registry below keeps this while `app` lives.
        datastore: Any = getattr(app.recorder, "datastore", None)
        self.channel: str | None = None
        self.connecting: dict[str, Any] = {}  # the pool's own: a password it renews is ours too
        if isinstance(datastore, PostgresDatastore):
            self.channel = app.recorder.channel_name  # type: ignore[attr-defined]
            self.connecting = datastore.pool.kwargs  # type: ignore[assignment]
        else:
            eventsourcing_adapter.after_recording(app, self._recorded)
        self.followers: tuple[Wake, ...] = ()  # replaced, never changed: writers' threads read it
        self.listener: asyncio.Task[None] | None = None
        self.listening = False  # the LISTEN connection is up (PostgreSQL only)

    @contextlib.asynccontextmanager
    async def follower(self, stopping: asyncio.Event) -> AsyncIterator[Wake]:
        """A wake-up call for one follower while it runs (in the running event loop), until `stopping`."""
        wake = Wake(asyncio.get_running_loop(), stopping)
        stop = asyncio.create_task(_wake_on(stopping, wake))
        self.followers += (wake,)
        if self.channel is not None and self.listener is None:
            self.listener = asyncio.create_task(self._listen(self.channel), name=f"listen {self.channel}")
        try:
            yield wake
        finally:
            stop.cancel()
            self.followers = tuple(f for f in self.followers if f is not wake)
            if not self.followers and self.listener is not None:
                listener, self.listener = self.listener, None
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    def _recorded(self, _recordings: object) -> None:
        self._wake_all()

    def _wake_all(self) -> None:
        for wake in self.followers:
            wake.wake()

    async def _listen(self, channel: str) -> None:
        backoff = Backoff.for_store()
        while True:
            try:
                await self._listen_once(channel, backoff)
            except (psycopg.Error, OSError) as error:
                log.warning("LISTEN %s: connection lost, the followers poll meanwhile: %r", channel, error)
            self.listening = False
            await asyncio.sleep(backoff.failed())

    async def _listen_once(self, channel: str, backoff: Backoff) -> None:
        address = {key: self.connecting[key] for key in ("dbname", "host", "port", "user", "password")}
        async with await psycopg.AsyncConnection.connect(
            **address, autocommit=True, connect_timeout=5, application_name=LISTENER_NAME
        ) as connection:
            await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self.listening = True
            backoff.succeeded()
            self._wake_all()  # whatever was committed while nobody listened
            while True:
                async for _ in connection.notifies(timeout=PING_SECONDS):
                    self._wake_all()
                await connection.execute("SELECT 1")  # a dead connection raises here


async def _wake_on(stopping: asyncio.Event, wake: Wake) -> None:
    await stopping.wait()
    wake.woken.set()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # a writer's thread
        return None


_stores: WeakKeyDictionary[Application[Any], StoreCommits] = WeakKeyDictionary()


def store_commits(app: Application[Any]) -> StoreCommits:
    """The one StoreCommits of `app`'s store in this process, shared by all its followers (so one
    LISTEN connection serves the relay and every projector), made on first use."""
    if (commits := _stores.get(app)) is None:
        commits = _stores[app] = StoreCommits(app)
    return commits
