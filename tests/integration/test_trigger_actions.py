"""A trigger's actions beyond the ticket, on real PostgreSQL and Kafka: calling a webhook subscription (a real
HTTP receiver verifies each signed delivery) and notifying a group by e-mail (the test SMTP sink catches it);
a subscription the tenant does not have disables the trigger with the reason."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.channel_peers import BotApi, Receiver, Sink
from tests.client import eventually, headers, open_ticket, read_ticket
from tests.harness import Desk
from tests.integration.test_notifications import with_channels

TENANT = "acme"
ADMIN = headers(TENANT, "admin-1", ("admin",))
SUPERVISOR = headers(TENANT, "boss-1", ("supervisor",))


@pytest.fixture
def gateway(desk: Desk, sink: Sink, bot_api: BotApi) -> Iterator[httpx.Client]:
    with_channels(desk, sink, bot_api)
    desk.env |= {"SERVICEDESK_WEBHOOK_RETRY_BASE_SECONDS": "0.05"}
    with desk.gateway("rules") as client:
        reply = client.put("/v1/webhooks/settings/private-network", json={"allow_private_network": True},
                           headers=ADMIN)  # fmt: skip
        assert reply.status_code == 200, reply.text
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def make(client: httpx.Client, **spec: Any) -> dict[str, Any]:
    made = client.post("/v1/triggers", json=spec, headers=ADMIN)
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def tagged(client: httpx.Client, ticket_id: str, tag: str) -> dict[str, Any]:
    return eventually(lambda: read_ticket(client, TENANT, ticket_id), lambda t: tag in t["tags"], timeout=60)


def test_a_trigger_calling_a_webhook_delivers_one_signed_delivery_per_firing_whatever_the_filter(
    gateway: httpx.Client, receiver: Receiver
) -> None:
    made = gateway.post("/v1/webhooks", json={"url": receiver.url, "types": ["ticket.rated"]}, headers=ADMIN)
    assert made.status_code == 201, made.text
    receiver.secret, subscription_id = made.json()["secret"], made.json()["id"]
    make(gateway, name="Tell the CRM", when=["ticket.opened"],
         **{"if": [{"field": "priority", "op": "is", "value": "P1"}]},
         then={"webhook_ids": [subscription_id], "tags_add": ["crm"]})  # fmt: skip
    calm = open_ticket(gateway, TENANT, priority="P3")
    urgent = [open_ticket(gateway, TENANT, priority="P1") for _ in range(2)]
    for ticket_id in urgent:
        tagged(gateway, ticket_id, "crm")
    eventually(lambda: receiver.received, lambda got: len(got) >= 2, timeout=60)
    time.sleep(2)  # nothing more comes
    got = receiver.received
    assert [p["type"] for p in got] == ["ticket.trigger_applied"] * 2, "the filter wants ticket.rated only"
    assert sorted(p["subject"] for p in got) == sorted(urgent)
    assert calm not in [p["subject"] for p in got]
    for payload in got:
        assert payload["version"] == 2
        assert payload["data"]["webhook_ids"] == [subscription_id]
        assert "webhook_ids" in payload["data"]["actions"]
    assert len(receiver.unique_ids()) == 2, "one delivery per firing, each with its own id"
    log = gateway.get(f"/v1/webhooks/{subscription_id}/deliveries", headers=ADMIN).json()["deliveries"]
    assert sorted(d["status"] for d in log) == ["delivered", "delivered"]


def test_a_trigger_calling_a_subscription_the_tenant_lacks_is_disabled_with_the_reason(
    gateway: httpx.Client,
) -> None:
    broken = make(gateway, name="Unknown hook", when=["ticket.opened"], then={"webhook_ids": ["no-such-hook"]})
    make(gateway, name="Seen", when=["ticket.opened"], then={"tags_add": ["seen"]})
    ticket_id = open_ticket(gateway, TENANT)
    tagged(gateway, ticket_id, "seen")
    off = eventually(lambda: gateway.get(f"/v1/triggers/{broken['id']}", headers=SUPERVISOR).json(),
                     lambda t: not t["enabled"], timeout=60)  # fmt: skip
    assert "then.webhook_ids.0" in off["disabled_reason"]
    assert "no-such-hook" in off["disabled_reason"]
    events = gateway.get(f"/v1/tickets/{ticket_id}/history", headers=ADMIN).json()["events"]
    assert [e["event"] for e in events].count("trigger_refused") == 1


def test_a_trigger_notifying_a_group_mails_each_of_its_agents_once(gateway: httpx.Client, sink: Sink) -> None:
    agents = ["ann@acme.test", "bob@acme.test"]
    make(gateway, name="Tell tier 2", when=["ticket.opened"],
         **{"if": [{"field": "priority", "op": "is", "value": "P1"}]},
         then={"notify_group": {"group_id": "tier2", "addresses": [*agents, "ANN@acme.test"]}})  # fmt: skip
    ticket_id = open_ticket(gateway, TENANT, priority="P1")
    calm = open_ticket(gateway, TENANT, priority="P3")

    def to_agents(ticket: str) -> list[Any]:
        return [m for m in sink.of(ticket) if m["To"].lower() in agents]

    eventually(lambda: to_agents(ticket_id), lambda mails: len(mails) >= 2, timeout=60)
    time.sleep(2)  # nothing more comes
    mails = to_agents(ticket_id)
    assert sorted(m["To"].lower() for m in mails) == agents, "each agent once (an address twice is one agent)"
    number = read_ticket(gateway, TENANT, ticket_id)["number"]
    for mail in mails:
        assert number in mail["Subject"]
        assert "tier2" in mail["Subject"]
        assert "priority is P1" in mail.get_content()
    assert to_agents(calm) == []


def test_a_trigger_with_a_wrong_group_notice_or_webhook_is_refused_when_saved(gateway: httpx.Client) -> None:
    bad = gateway.post("/v1/triggers", headers=ADMIN, json={
        "name": "Bad", "when": ["ticket.opened"], "then": {"notify_group": {"group_id": "tier2", "addresses": ["x"]}},
    })  # fmt: skip
    assert bad.status_code == 422, bad.text
    assert [e["field"] for e in bad.json()["errors"]] == ["then.notify_group.addresses.0"], bad.text
    empty = gateway.post("/v1/triggers", headers=ADMIN, json={
        "name": "Bad", "when": ["ticket.opened"], "then": {"webhook_ids": [""]},
    })  # fmt: skip
    assert empty.status_code == 422, empty.text
    assert [e["field"] for e in empty.json()["errors"]] == ["then.webhook_ids.0"], empty.text
