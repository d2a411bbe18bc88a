"""Webhooks on real Kafka and PostgreSQL, to a local receiver that verifies every delivery with
the `standardwebhooks` library: retries until it answers, nothing lost while it is down,
each event once after dedupe and in order per ticket, disabled after repeated failure,
redelivered on request, and no targets inside the network unless the admin allows it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.channel_peers import Receiver
from tests.client import eventually, headers, open_ticket
from tests.harness import Desk

TENANT = "acme"


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    desk.env |= {"SERVICEDESK_WEBHOOK_RETRY_BASE_SECONDS": "0.05", "SERVICEDESK_WEBHOOK_MAX_ATTEMPTS": "6"}
    intake = desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=10.0, headers=headers(TENANT)) as client:
        reply = client.put("/v1/webhooks/settings/private-network", json={"allow_private_network": True})
        assert reply.status_code == 200, reply.text
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def subscribe(client: httpx.Client, receiver: Receiver, **more: Any) -> str:
    reply = client.post("/v1/webhooks", json={"url": receiver.url} | more)
    assert reply.status_code == 201, reply.text
    receiver.secret = reply.json()["secret"]
    subscription_id: str = reply.json()["id"]
    return subscription_id


def feed_ids(client: httpx.Client) -> list[str]:
    return [e["id"] for e in client.get("/v1/events", params={"limit": 1000}).json()["events"]]


def test_a_receiver_that_fails_three_times_then_succeeds_gets_every_event_once_in_order(
    gateway: httpx.Client, receiver: Receiver
) -> None:
    receiver.fail_first = 3
    receiver.start()
    subscribe(gateway, receiver)
    tickets = [open_ticket(gateway, TENANT) for _ in range(4)]
    for ticket_id in tickets:
        gateway.post(f"/v1/tickets/{ticket_id}/start-work", json={"reason": "mine"})
    expected = eventually(lambda: feed_ids(gateway), lambda ids: len(ids) == 8)
    eventually(receiver.unique_ids, lambda ids: sorted(ids) == sorted(expected), timeout=30)
    assert receiver.requests >= len(expected) + 3
    for ticket_id in tickets:
        kinds = [p["type"] for p in receiver.received if p["subject"] == ticket_id]
        assert list(dict.fromkeys(kinds)) == ["ticket.opened", "ticket.status_changed"], "order per ticket kept"


def test_nothing_is_lost_while_the_receiver_is_down(gateway: httpx.Client, receiver: Receiver) -> None:
    subscribe(gateway, receiver, types=["ticket.opened"])
    tickets = [open_ticket(gateway, TENANT) for _ in range(3)]
    threading.Event().wait(1.0)  # down: every attempt is refused
    receiver.start()
    delivered = eventually(receiver.unique_ids, lambda ids: len(ids) == 3, timeout=30)
    assert sorted(p["subject"] for p in receiver.received) == sorted(tickets)
    assert len(delivered) == 3


def test_a_subscription_failing_again_and_again_is_disabled_with_the_reason_and_redelivers_on_request(
    gateway: httpx.Client, receiver: Receiver
) -> None:
    receiver.always_fail = True
    receiver.start()
    subscription_id = subscribe(gateway, receiver, types=["ticket.opened"])
    for _ in range(3):
        open_ticket(gateway, TENANT)
    disabled = eventually(lambda: gateway.get(f"/v1/webhooks/{subscription_id}").json(), lambda s: not s["active"],
                          timeout=60)  # fmt: skip
    assert "3 deliveries in a row failed" in disabled["disabled_reason"]
    assert "HTTP 500" in disabled["disabled_reason"]
    log = gateway.get(f"/v1/webhooks/{subscription_id}/deliveries").json()["deliveries"]
    assert {d["status"] for d in log} == {"failed"}
    assert all(d["attempts"] == 6 for d in log)

    receiver.always_fail = False
    assert gateway.patch(f"/v1/webhooks/{subscription_id}", json={"active": True}).status_code == 200
    reply = gateway.post(f"/v1/webhooks/{subscription_id}/deliveries/{log[0]['id']}/redeliver")
    assert reply.status_code == 202, reply.text
    eventually(receiver.unique_ids, lambda ids: ids == [log[0]["event_id"]], timeout=30)


def test_a_target_inside_the_network_is_refused_unless_the_admin_allows_it(gateway: httpx.Client) -> None:
    assert gateway.put("/v1/webhooks/settings/private-network", json={"allow_private_network": False}).is_success
    for url in ("http://127.0.0.1:9/hooks", "http://169.254.169.254/latest/meta-data", "http://10.0.0.8/x",
                "http://localhost/x", "ftp://example.com/x"):  # fmt: skip
        reply = gateway.post("/v1/webhooks", json={"url": url})
        assert reply.status_code == 422, f"{url}: {reply.text}"
        assert reply.json()["field"] == "url"
    assert json.loads(gateway.get("/v1/webhooks").text)["webhooks"] == []


def test_a_webhook_to_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    gateway: httpx.Client, receiver: Receiver
) -> None:
    """The receiver of these tests is on loopback: the `gateway` fixture allows private targets explicitly.
    Withdrawn, a subscription made meanwhile to a name resolving to 127.0.0.1 gets nothing more."""
    receiver.start()
    url = f"http://localhost:{receiver.port}/hooks"
    subscription_id = subscribe(gateway, receiver, url=url, types=["ticket.opened"])
    assert gateway.put("/v1/webhooks/settings/private-network", json={"allow_private_network": False}).is_success
    open_ticket(gateway, TENANT)
    log = eventually(lambda: gateway.get(f"/v1/webhooks/{subscription_id}/deliveries").json()["deliveries"],
                     lambda log: bool(log and log[0]["last_error"]), timeout=30)  # fmt: skip
    assert "'localhost' resolves to " in log[0]["last_error"]
    assert "an internal address" in log[0]["last_error"]
    assert receiver.requests == 0
