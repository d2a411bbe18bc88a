"""What a customer's search reveals, through the gateway on real PostgreSQL and Kafka: the public
text of their tickets, never a word of an internal note; and any form of a word finds its ticket,
for a customer and an agent alike."""

from __future__ import annotations

import httpx

from tests.client import eventually, headers, ticket_form
from tests.harness import Desk


def found(client: httpx.Client, q: str) -> list[str]:
    answer = client.get("/v1/tickets/search", params={"q": q})
    assert answer.status_code == 200, answer.text
    return [ticket["id"] for ticket in answer.json()["tickets"]]


def test_a_customer_cannot_find_their_ticket_by_a_word_of_an_internal_note(desk: Desk) -> None:
    gateway = desk.service("intake", "api").start()
    carol = httpx.Client(base_url=gateway.url, headers=headers("acme", "carol", ("customer",)), timeout=10.0)
    agent = httpx.Client(base_url=gateway.url, headers=headers("acme", "agent-7", ("admin",)), timeout=10.0)
    opened = carol.post("/v1/tickets", json=ticket_form(title="Invoice missing", description="March is not there."))
    assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["id"]
    note = agent.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "Suspect fraudulent account", "public": False})
    reply = agent.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "We are reissuing it", "public": True})
    assert (note.status_code, reply.status_code) == (201, 201)

    # the list trails the store: once the agent finds the later reply, the note is in it too
    assert eventually(lambda: found(agent, "reissuing"), lambda ids: ids == [ticket_id], timeout=15)
    assert found(agent, "fraudulent") == [ticket_id]
    assert found(carol, "reissuing") == [ticket_id], "the public reply is hers to search"
    assert found(carol, "invoice") == [ticket_id]
    assert found(carol, "fraudulent") == []
    assert found(carol, '"suspect fraudulent"') == []
    assert found(carol, "invoice fraudulent") == [], "a word of the note does not narrow her search either"
    assert found(carol, "invoice -fraudulent") == [ticket_id], "nor does leaving it out"
    assert found(agent, "invoice fraudulent") == [ticket_id], "agents search the notes too"


def test_a_customer_and_an_agent_find_a_ticket_by_any_form_of_its_words(desk: Desk) -> None:
    gateway = desk.service("intake", "api").start()
    dora = httpx.Client(base_url=gateway.url, headers=headers("acme", "dora", ("customer",)), timeout=10.0)
    agent = httpx.Client(base_url=gateway.url, headers=headers("acme", "agent-7", ("admin",)), timeout=10.0)
    russian = dora.post("/v1/tickets", json=ticket_form(title="Принтер не печатает", description="Горит лампочка."))
    english = dora.post("/v1/tickets", json=ticket_form(title="Printers stopped printing", description="Stuck."))
    assert (russian.status_code, english.status_code) == (201, 201)
    printer, printers = russian.json()["id"], english.json()["id"]
    note = agent.post(f"/v1/tickets/{printer}/comments", json={"body": "Обновить драйвер", "public": False})
    assert note.status_code == 201, note.text

    assert eventually(lambda: found(agent, "драйвера"), lambda ids: ids == [printer], timeout=15)
    for client in (dora, agent):
        assert found(client, "принтеры") == [printer]
        assert found(client, "печать") == [printer], "the noun finds the verb"
        assert found(client, "лампочки принтера") == [printer]
        assert found(client, "printer") == [printers]
        assert found(client, '"stops printed"') == [printers]
    assert found(dora, "драйвера") == [], "an internal note stays the staff's in any form"
