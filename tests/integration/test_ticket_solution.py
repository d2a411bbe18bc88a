"""The ticket's solution through the gateway, with the knowledge service behind it (real PostgreSQL and
Kafka): an agent links an article the knowledge base has; an article it does not have is refused."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import httpx
import pytest

from tests.client import headers, open_ticket
from tests.harness import Desk
from tests.integration.knowledge_steps import TENANT, publish, write


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    with desk.gateway("knowledge") as client:
        yield client


def test_an_agent_links_an_article_of_the_knowledge_base_as_the_solution_and_no_other(gateway: httpx.Client) -> None:
    article = publish(gateway, write(gateway, title="Printer does not print", visibility="public")["id"])
    ticket_id = open_ticket(gateway, TENANT, title="Printer does not print")
    agent = headers(TENANT, "agent-7", ("agent",))

    unknown = gateway.post(f"/v1/tickets/{ticket_id}/solution", json={"article_id": str(uuid4())}, headers=agent)
    linked = gateway.post(f"/v1/tickets/{ticket_id}/solution", json={"article_id": article["id"]}, headers=agent)

    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["article_id"]
    assert linked.status_code == 200, linked.text
    assert linked.json()["solution"] == article["id"]
    history = gateway.get(f"/v1/tickets/{ticket_id}/history", headers=agent).json()["events"]
    assert [e["event"] for e in history].count("solution_linked") == 1
