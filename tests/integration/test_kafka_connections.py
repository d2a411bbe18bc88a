"""Under uvloop (every service's loop), a Kafka request written to a connection that closed under it fails as a
broken connection, which aiokafka handles, and not with uvloop's RuntimeError, which ended the client's metadata
task for good after a broker's SIGKILL (its group member then never found its coordinator again)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvloop
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError
from aiokafka.protocol.metadata import MetadataRequest

import services.chassis.messaging  # noqa: F401 - installs the connections' patch, as every service does
from tests import infra


async def connected_client(kafka: infra.Kafka) -> tuple[AIOKafkaClient, Any]:
    client = AIOKafkaClient(bootstrap_servers=kafka.bootstrap)
    await client.bootstrap()
    [node] = [broker.nodeId for broker in client.cluster.brokers()]
    connection = await client._get_conn(node)
    assert connection is not None
    assert connection.connected()
    return client, connection


@asynccontextmanager
async def closed_under(connection: Any) -> AsyncIterator[None]:
    """Close the connection's socket under aiokafka, as a dead broker's end does when a write comes before the
    connection's reader has heard of it (here the reader hears of it only at the end, when the client closes)."""
    transport = connection._writer.transport
    protocol = transport.get_protocol()
    transport.set_protocol(asyncio.Protocol())
    transport.close()
    await asyncio.sleep(0.05)  # uvloop closes the socket's handle
    assert connection.connected(), "aiokafka still takes it for open"
    try:
        yield
    finally:
        protocol.connection_lost(None)


def test_a_request_on_a_connection_closed_under_it_fails_as_a_broken_connection(kafka: infra.Kafka) -> None:
    async def scenario() -> None:
        client, connection = await connected_client(kafka)
        try:
            async with closed_under(connection):
                with pytest.raises(KafkaConnectionError):
                    await connection.send(MetadataRequest([]))
                assert not connection.connected()
        finally:
            await client.close()

    uvloop.run(scenario())


def test_the_metadata_task_outlives_a_connection_closed_under_it(kafka: infra.Kafka) -> None:
    async def scenario() -> None:
        client, connection = await connected_client(kafka)
        try:
            async with closed_under(connection):
                refreshed = await client._metadata_update(client.cluster, [])  # what the metadata task runs
                assert refreshed is False, "this refresh failed, as one to a dead broker does"
                assert not client._sync_task.done()
            assert await asyncio.wait_for(client.force_metadata_update(), timeout=10), "the next one goes through"
        finally:
            await client.close()

    uvloop.run(scenario())
