"""One relay leads among a service's replicas: the lease on PostgreSQL and on SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg

from services.chassis.runtime.leadership import AdvisoryLease, FileLease, Lease
from services.chassis.runtime.settings import Settings
from tests.harness import Desk


async def take_turns(first: Lease, second: Lease) -> None:
    assert await first.acquire()
    assert not await second.acquire(), "two leaders at once"
    await first.release()
    assert await second.acquire(), "the lease passes on when its holder lets go"
    await second.release()


def test_of_two_replicas_one_holds_the_relay_lease_at_a_time(desk: Desk, tmp_path: Path) -> None:
    asyncio.run(take_turns(AdvisoryLease(desk.settings, "intake-relay"), AdvisoryLease(desk.settings, "intake-relay")))
    asyncio.run(take_turns(FileLease(tmp_path / "intake-relay.lease"), FileLease(tmp_path / "intake-relay.lease")))


def test_a_leader_whose_session_dies_loses_the_lease_to_the_standby(desk: Desk) -> None:
    async def scenario(settings: Settings) -> None:
        leader, standby = AdvisoryLease(settings, "sla-relay"), AdvisoryLease(settings, "sla-relay")
        assert await leader.acquire()
        assert leader.connection is not None
        pid = leader.connection.info.backend_pid
        async with await psycopg.AsyncConnection.connect(
            host=settings.postgres_host, port=settings.postgres_port, user=settings.postgres_user,
            password=settings.postgres_password, dbname=settings.postgres_dbname, autocommit=True,
        ) as admin:  # fmt: skip
            await admin.execute("SELECT pg_terminate_backend(%s)", [pid])  # as when its process is SIGKILLed
        await asyncio.sleep(0.6)  # past the leader's check interval
        assert not await leader.held(), "the leader knows it lost the lease"
        assert await standby.acquire()
        await standby.release()

    asyncio.run(scenario(desk.settings))
