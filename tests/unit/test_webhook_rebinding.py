"""DNS rebinding against webhook deliveries: a name that answers a public address to the checks
and an internal one a moment later must never reach the internal address.

The name is resolved by a stand-in resolver; "the internet" is a receiver on loopback that the
public address is routed to, so the test sees which address each connection really went to."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest
from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope
from services.chassis.runtime.settings import Settings
from services.chassis.storage.processing import commit
from services.chassis.storage.store import tracking_recorder
from services.intake.tickets.application import Intake
from services.intake.webhooks.delivery import Deliverer, Deliveries
from services.intake.webhooks.subscriptions import Webhooks
from tests.harness import free_port
from tests.privacy import desk_intake

NAME = "hooks.rebind.test"
PUBLIC = "93.184.216.34"  # what the name answers twice: a receiver out on the internet
INSIDE = "127.0.0.1"  # what it answers from then on: the desk's own network
PUBLIC_ANSWERS = 2  # time-to-live 0: every lookup is a new answer


@dataclass
class Receiver:
    """An HTTP endpoint on loopback that answers 204 and keeps the Host header of each request."""

    port: int = field(default_factory=free_port)
    hosts: list[str] = field(default_factory=list)

    def serve(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                receiver.hosts.append(self.headers["host"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@dataclass
class Network:
    inside: Receiver
    outside: Receiver
    lookups: list[str] = field(default_factory=list)  # each answer the name gave


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[Network]:
    network = Network(Receiver(), Receiver())
    servers = [network.inside.serve(), network.outside.serve()]
    resolve, connect = socket.getaddrinfo, anyio.connect_tcp

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if (host.decode() if isinstance(host, bytes) else host) != NAME:  # anyio asks in bytes
            return resolve(host, port, *args, **kwargs)
        network.lookups.append(PUBLIC if len(network.lookups) < PUBLIC_ANSWERS else INSIDE)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (network.lookups[-1], int(port)))]

    async def routed(remote_host: Any, remote_port: int, **kwargs: Any) -> Any:
        if str(remote_host) == PUBLIC:  # out to the internet: the outside receiver stands for it
            remote_host, remote_port = "127.0.0.1", network.outside.port
        return await connect(remote_host, remote_port, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(anyio, "connect_tcp", routed)
    yield network
    for server in servers:
        server.shutdown()
        server.server_close()


def subscribe(intake: Intake, deliveries: Deliveries, url: str) -> str:
    made: list[str] = []

    def decide() -> list[Any]:
        hooks = deliveries.webhooks("acme") or Webhooks("acme")
        made.append(hooks.subscribe(url, []))
        return [hooks]

    commit(intake, decide)
    return made[0]


def an_event(position: int) -> Envelope:
    return Envelope(
        id=uuid.uuid4(), type="ticket.opened", version=3, source="intake", subject=str(uuid.uuid4()), tenant="acme",
        actor="agent-7", occurred_at=datetime.now(UTC), sequence=1, position=position, correlation_id="c",
        causation_id="c", data={},
    )  # fmt: skip


def deliver(deliveries: Deliveries, intake: Intake, subscription_id: str, position: int) -> dict[str, Any]:
    """Enqueue one event and run the deliverer until its delivery is delivered or failed."""
    deliveries.enqueue(an_event(position), None, Tracking("webhooks:intake", position))  # type: ignore[arg-type]

    async def run() -> dict[str, Any]:
        stopping = asyncio.Event()
        running = asyncio.create_task(Deliverer(intake, deliveries, 0.05, 3).run(stopping))
        deadline = time.monotonic() + 20
        while (delivery := deliveries.log("acme", subscription_id, 1)[0])["status"] == "pending":
            assert time.monotonic() < deadline, "the delivery neither succeeded nor failed in time"
            await asyncio.sleep(0.05)
        stopping.set()
        await running
        return delivery

    return asyncio.run(run())


def test_a_webhook_to_a_name_that_rebinds_to_a_private_address_is_refused(tmp_path: Path, network: Network) -> None:
    intake = desk_intake(Settings(persistence="sqlite", data_dir=tmp_path))
    deliveries = Deliveries(tracking_recorder(Settings(persistence="sqlite", data_dir=tmp_path), Intake.name), intake)
    url = f"http://{NAME}:{network.inside.port}/hooks"
    subscription_id = subscribe(intake, deliveries, url)  # checked: a public address

    first = deliver(deliveries, intake, subscription_id, 1)  # checked: public; then the name turns inward
    assert network.inside.hosts == [], "nothing reached the internal address the name turned to"
    assert first["status"] == "delivered"
    assert network.outside.hosts == [f"{NAME}:{network.inside.port}"], "to the address checked, under its name"

    second = deliver(deliveries, intake, subscription_id, 2)  # inward from the start
    assert network.inside.hosts == []
    assert second["status"] == "failed"
    assert f"{NAME!r} resolves to 127.0.0.1, an internal address" in second["last_error"]
