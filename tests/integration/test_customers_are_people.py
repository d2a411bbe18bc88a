"""A customer signed in with a token, and a web-chat visitor, are people of the directory, on real
PostgreSQL and Kafka: found (or registered, as mail registers a new address) by the token's e-mail
address, else by their chat address (the token's subject); in the organisation of their e-mail
domain. Their tickets carry the person's and the organisation's ids, so a customer's "my
organisation's tickets" are those the mail of their colleagues opened too; tickets stored before
with the token's subject and organisation name stay theirs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.client import eventually, headers, read_ticket, ticket_form
from tests.harness import Desk
from tests.mail import a_message, send, with_mailboxes
from tests.tokens import token

TENANT = "acme"
ADMIN = headers(TENANT, "admin-1", ("admin",))
AGENT = headers(TENANT, "agent-1", ("agent",))


@pytest.fixture
def gateway(desk: Desk) -> Iterator[tuple[httpx.Client, int]]:
    port = with_mailboxes(desk)
    desk.env["SERVICEDESK_CHAT_POLL_SECONDS"] = "0.1"
    intake = desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=20.0) as client:
        yield client, port


def customer(subject: str, organisation: str | None = None, **claims: Any) -> dict[str, str]:
    """A customer signed in at the identity provider (`email=...` among the claims, when it gives one)."""
    return {"Authorization": f"Bearer {token(TENANT, subject, ('customer',), organisation=organisation, **claims)}"}


def ok(reply: httpx.Response, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json()


def northwind(client: httpx.Client) -> str:
    """The organisation Northwind, holding the domain northwind.example: its id."""
    body = {"name": "Northwind", "domains": ["northwind.example"]}
    organisation: str = ok(client.post("/v1/organisations", json=body, headers=ADMIN), 201)["id"]
    return organisation


def listed(client: httpx.Client, who: dict[str, str], wanted: set[str]) -> set[str]:
    """The ids of the tickets `who` lists, once the list holds every one of `wanted`."""
    found = eventually(lambda: {t["id"] for t in ok(client.get("/v1/tickets", headers=who))["tickets"]},
                       lambda ids: wanted <= ids)  # fmt: skip
    return found


def mailed(client: httpx.Client, port: int, sender: str, subject: str) -> dict[str, Any]:
    """The ticket a mail from `sender` opened."""
    code, text = send(port, a_message(subject=subject, sender=sender), envelope_sender=sender.split("<")[-1][:-1])
    assert code == 250, text
    tickets = eventually(lambda: ok(client.get("/v1/tickets", headers=AGENT))["tickets"],
                         lambda found: any(t["channel"] == "email" for t in found))  # fmt: skip
    return read_ticket(client, TENANT, next(t["id"] for t in tickets if t["channel"] == "email"))


def test_a_customer_signed_in_lists_the_tickets_of_their_organisation_opened_by_mail(
    gateway: tuple[httpx.Client, int],
) -> None:
    client, port = gateway
    organisation = northwind(client)
    by_mail = mailed(client, port, "Lev Lebedev <lev@northwind.example>", "Printer jams on floor two")
    assert by_mail["organisation"] == organisation

    kim = customer("idp-kim", organisation="Northwind Trading", email="Kim@Northwind.example", name="Kim Nakamura",
                   locale="en-GB")  # fmt: skip
    assert by_mail["id"] in listed(client, kim, {by_mail["id"]}), "her organisation's ticket, opened by mail"
    opened = ok(client.post("/v1/tickets", json=ticket_form(title="VPN down", requester_id="x"), headers=kim), 201)
    ticket = read_ticket(client, TENANT, opened["id"])
    person = ok(client.get(f"/v1/people/{ticket['requester_id']}", headers=AGENT))
    assert (ticket["organisation"], person["organisation_id"]) == (organisation, organisation)
    assert (person["name"], person["language"]) == ("Kim Nakamura", "en")
    assert person["addresses"] == [{"channel": "email", "address": "Kim@Northwind.example"}]

    lev = customer("idp-lev", email="lev@northwind.example")  # the person his mail registered
    assert {by_mail["id"], opened["id"]} <= listed(client, lev, {by_mail["id"], opened["id"]})
    lev_opened = ok(client.post("/v1/tickets", json=ticket_form(title="Toner"), headers=lev), 201)
    assert read_ticket(client, TENANT, lev_opened["id"])["requester_id"] == by_mail["requester_id"]
    eventually(lambda: {t["id"] for t in ok(client.get(f"/v1/people/{by_mail['requester_id']}/tickets",
                                                       headers=AGENT))["tickets"]},
               lambda ids: ids == {by_mail["id"], lev_opened["id"]})  # fmt: skip

    zoe = customer("idp-zoe", email="zoe@contoso.example")
    zoes = ok(client.post("/v1/tickets", json=ticket_form(title="Mine"), headers=zoe), 201)
    assert listed(client, zoe, {zoes["id"]}) == {zoes["id"]}, "another organisation's customer sees her own"
    assert client.get(f"/v1/tickets/{by_mail['id']}", headers=zoe).status_code == 404
    unverified = customer("idp-eve", email="kim@northwind.example", email_verified=False)
    assert client.get(f"/v1/tickets/{opened['id']}", headers=unverified).status_code == 404, "an unverified address"


def chat(client: httpx.Client, who: dict[str, str]) -> ClientConnection:
    access_token = who["Authorization"].split()[1]
    return connect(f"{str(client.base_url).replace('http', 'ws')}/v1/chat?access_token={access_token}",
                   open_timeout=10)  # fmt: skip


def chatted(client: httpx.Client, who: dict[str, str], body: str) -> dict[str, Any]:
    """The ticket `who`'s first chat message opened (the agent's public reply comes back to them live)."""
    with chat(client, who) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "conversation"
        socket.send(json.dumps({"type": "message", "id": "m1", "body": body}))
        stored = json.loads(socket.recv(timeout=10))
        assert stored["outcome"] == "opened", stored
        socket.send(json.dumps({"type": "message", "id": "m2", "body": "Still there?"}))
        assert json.loads(socket.recv(timeout=10))["outcome"] == "commented", "the person's own ticket"
        reply = {"body": "Looking into it", "public": True, "channel": "chat"}
        ok(client.post(f"/v1/tickets/{stored['ticket_id']}/comments", json=reply, headers=AGENT), 201)
        answered = json.loads(socket.recv(timeout=10))
        assert (answered["type"], answered["body"]) == ("reply", "Looking into it"), "not their own words back"
    return read_ticket(client, TENANT, stored["ticket_id"])


def test_a_chat_visitor_becomes_a_person_of_the_directory(gateway: tuple[httpx.Client, int]) -> None:
    client, _ = gateway
    organisation = northwind(client)
    ann = customer("idp-ann", email="ann@northwind.example", name="Ann Archer")
    ticket = chatted(client, ann, "My invoice is wrong")
    person = ok(client.get(f"/v1/people/{ticket['requester_id']}", headers=AGENT))
    assert (ticket["channel"], ticket["organisation"]) == ("chat", organisation)
    assert (person["name"], person["organisation_id"]) == ("Ann Archer", organisation)
    assert person["addresses"] == [{"channel": "email", "address": "ann@northwind.example"}]
    assert [c["author_id"] for c in ticket["comments"][:1]] == [person["id"]]
    guest = customer("idp-guest-1")  # no e-mail address: known by their chat address, the token's subject
    theirs = chatted(client, guest, "Where is my order?")
    visitor = ok(client.get(f"/v1/people/{theirs['requester_id']}", headers=AGENT))
    assert visitor["addresses"] == [{"channel": "chat", "address": "idp-guest-1"}]
    assert theirs["organisation"] is None
    again = ok(client.post("/v1/tickets", json=ticket_form(title="And my refund"), headers=guest), 201)
    assert read_ticket(client, TENANT, again["id"])["requester_id"] == visitor["id"], "the same person by the API"
    assert listed(client, guest, {theirs["id"], again["id"]}) == {theirs["id"], again["id"]}


def test_tickets_stored_with_an_organisations_name_stay_visible_to_its_customers(
    gateway: tuple[httpx.Client, int],
) -> None:
    """Tickets opened before customers were people carry the token's subject and organisation name: they are
    not rewritten, and the scope keeps the token's own words beside the directory's ids."""
    client, _ = gateway
    stored = {"organisation": "northwind"}
    old = ok(client.post("/v1/tickets", json=ticket_form(title="Old", requester_id="idp-old") | stored,
                         headers=ADMIN), 201)  # fmt: skip
    colleagues = ok(client.post("/v1/tickets", json=ticket_form(title="Theirs", requester_id="idp-other") | stored,
                                headers=ADMIN), 201)  # fmt: skip
    before = customer("idp-old", organisation="northwind")  # the token named the organisation, the desk did not
    assert listed(client, before, {old["id"], colleagues["id"]}) >= {old["id"], colleagues["id"]}
    named = ok(client.post("/v1/tickets", json=ticket_form(title="Named"), headers=before), 201)
    assert read_ticket(client, TENANT, named["id"])["organisation"] == "northwind", "no such organisation: the name"

    organisation = northwind(client)  # the desk now has it, named as the token names it (any case)
    eventually(lambda: ok(client.get("/v1/organisations", headers=AGENT))["organisations"],
               lambda found: [o["id"] for o in found] == [organisation])  # fmt: skip
    colleague = customer("idp-third", organisation="northwind")
    opened = ok(client.post("/v1/tickets", json=ticket_form(title="New"), headers=colleague), 201)
    assert read_ticket(client, TENANT, opened["id"])["organisation"] == organisation, "the claim names it: its id"
    wanted = {old["id"], colleagues["id"], named["id"], opened["id"]}
    assert listed(client, colleague, wanted) >= wanted, "the old tickets by the name, the new one by the id"
    by_domain = customer("idp-new", email="new@northwind.example")  # no claim: the organisation of the domain
    seen = listed(client, by_domain, {opened["id"]})
    assert old["id"] not in seen, "a ticket stored with the name only is seen by customers whose token names it"
