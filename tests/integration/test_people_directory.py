"""The desk's customers and organisations through the gateway, on real PostgreSQL and Kafka: a person
with an address on every channel, changed and erased; an organisation whose domain a new mail joins;
two people merged into one, their tickets listed together; people found by name and address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.intake.privacy.personal_data import ERASED
from tests.client import eventually, headers, read_ticket
from tests.harness import Desk
from tests.mail import a_message, send, with_mailboxes

TENANT = "acme"
ADMIN = headers(TENANT, "admin-1", ("admin",))
AGENT = headers(TENANT, "agent-1", ("agent",))
CUSTOMER = headers(TENANT, "customer-1", ("customer",))


@pytest.fixture
def gateway(desk: Desk) -> Iterator[tuple[httpx.Client, int]]:
    port = with_mailboxes(desk)
    intake = desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=20.0) as client:
        yield client, port


def ok(reply: httpx.Response, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json()


def refused(reply: httpx.Response, status: int) -> list[str]:
    """The fields a problem answer names."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    return [error["field"] for error in reply.json()["errors"]]


def a_person(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return ok(client.post("/v1/people", json=fields, headers=ADMIN), 201)  # type: ignore[no-any-return]


def test_an_admin_registers_a_person_with_an_address_on_every_channel(gateway: tuple[httpx.Client, int]) -> None:
    client, _ = gateway
    addresses = [{"channel": "email", "address": "kim@northwind.example"}, {"channel": "telegram", "address": "4711"}]
    kim = a_person(client, name="Kim Nakamura", addresses=addresses, language="en", time_zone="Asia/Tokyo")
    read = ok(client.get(f"/v1/people/{kim['id']}", headers=AGENT))
    assert (read["name"], read["addresses"], read["time_zone"]) == ("Kim Nakamura", addresses, "Asia/Tokyo")
    assert client.get(f"/v1/people/{kim['id']}", headers=CUSTOMER).status_code == 403
    assert client.patch(f"/v1/people/{kim['id']}", json={"notes": "x"}, headers=AGENT).status_code == 403

    chat = {"channel": "chat", "address": "kim-chat-1"}
    added = ok(client.post(f"/v1/people/{kim['id']}/addresses", json=chat, headers=ADMIN))
    assert added["addresses"] == [*addresses, chat]
    removed = ok(client.delete(f"/v1/people/{kim['id']}/addresses", params=addresses[1], headers=ADMIN))
    assert removed["addresses"] == [addresses[0], chat]
    changed = ok(client.patch(f"/v1/people/{kim['id']}", json={"notes": "VIP", "language": None}, headers=ADMIN))
    assert (changed["notes"], changed["language"], changed["name"]) == ("VIP", None, "Kim Nakamura")

    other = a_person(client, name="Someone else")
    held = client.post(f"/v1/people/{other['id']}/addresses", json=addresses[0] | {"address": "KIM@northwind.example"},
                       headers=ADMIN)  # fmt: skip
    assert refused(held, 409) == ["address"]
    assert refused(client.post("/v1/people", json={"addresses": [chat]}, headers=ADMIN), 409) == ["addresses.0"]
    unknown = client.patch(f"/v1/people/{kim['id']}", json={"organisation_id": "no-such-organisation"}, headers=ADMIN)
    assert refused(unknown, 422) == ["organisation_id"]
    assert refused(client.post("/v1/people", json={"time_zone": "Mars/Olympus"}, headers=ADMIN), 422) == ["time_zone"]
    assert refused(client.get("/v1/people/no-such-person", headers=AGENT), 404) == ["id"]


def test_a_mail_from_a_new_address_of_a_known_domain_joins_the_organisation(
    gateway: tuple[httpx.Client, int],
) -> None:
    client, port = gateway
    organisation = {"name": "Northwind", "domains": ["northwind.example"], "sla_calendar_id": "tokyo-hours",
                    "sla_policy_id": "gold", "custom_fields": {"contract": "NW-7", "seats": 40}}  # fmt: skip
    northwind = ok(client.post("/v1/organisations", json=organisation, headers=ADMIN), 201)
    assert ok(client.get(f"/v1/organisations/{northwind['id']}", headers=AGENT)) == northwind | organisation
    twice = client.post("/v1/organisations", json=organisation | {"domains": ["x.example", "northwind.example"]},
                        headers=ADMIN)  # fmt: skip
    assert refused(twice, 422) == ["domains.1"]

    message = a_message(sender="Lev Lebedev <lev@NorthWind.example>")
    code, text = send(port, message, envelope_sender="lev@northwind.example")
    assert code == 250, text
    tickets = eventually(lambda: ok(client.get("/v1/tickets", headers=AGENT))["tickets"],
                         lambda found: any(t["channel"] == "email" for t in found))  # fmt: skip
    ticket = read_ticket(client, TENANT, next(t["id"] for t in tickets if t["channel"] == "email"))
    assert ticket["organisation"] == northwind["id"]
    lev = ok(client.get(f"/v1/people/{ticket['requester_id']}", headers=AGENT))
    assert (lev["name"], lev["organisation_id"]) == ("Lev Lebedev", northwind["id"])
    assert lev["addresses"] == [{"channel": "email", "address": "lev@NorthWind.example"}]

    by_api = ok(client.post("/v1/tickets", json={"title": "VPN", "description": "down", "channel": "api",
                                                  "requester_id": lev["id"]}, headers=AGENT), 201)  # fmt: skip
    assert read_ticket(client, TENANT, by_api["id"])["organisation"] == northwind["id"]


def test_erasing_a_person_erases_every_address_and_note(gateway: tuple[httpx.Client, int]) -> None:
    client, _ = gateway
    addresses = [{"channel": "email", "address": "vera@x.example"}, {"channel": "telegram", "address": "9001"}]
    vera = a_person(client, name="Vera Volkova", addresses=addresses, notes="calls after six")
    export = ok(client.get(f"/v1/people/{vera['id']}/export", headers=ADMIN))["profile"]
    assert (export["name"], export["notes"], export["addresses"]) == ("Vera Volkova", "calls after six", addresses)

    ok(client.post(f"/v1/people/{vera['id']}/erasure", json={"reason": "asked"}, headers=ADMIN))
    erased = ok(client.get(f"/v1/people/{vera['id']}", headers=AGENT))
    assert erased["erased"]
    assert (erased["name"], erased["notes"]) == (ERASED, ERASED)
    assert [a["address"] for a in erased["addresses"]] == [ERASED, ERASED]
    exported = ok(client.get(f"/v1/people/{vera['id']}/export", headers=ADMIN))
    assert exported["erased"]
    assert ERASED in exported["profile"]["addresses"][0]["address"]
    again = a_person(client, addresses=addresses[:1])  # the address is free again: someone new
    assert again["id"] != vera["id"]
    assert client.patch(f"/v1/people/{vera['id']}", json={"notes": "x"}, headers=ADMIN).status_code == 410


def test_merging_two_people_lists_both_channels_tickets_under_one(gateway: tuple[httpx.Client, int]) -> None:
    client, port = gateway
    code, text = send(port, a_message(sender="Kim <kim@work.example>"), envelope_sender="kim@work.example")
    assert code == 250, text
    by_mail = eventually(lambda: ok(client.get("/v1/people", params={"q": "kim@work.example"}, headers=AGENT)),
                         lambda found: len(found["people"]) == 1)["people"][0]  # fmt: skip
    at_home = {"channel": "telegram", "address": "4711"}
    by_telegram = a_person(
        client, name="Kim N", addresses=[at_home, {"channel": "email", "address": "kim@home.example"}]
    )
    form = {"title": "Router", "description": "blinks", "channel": "messenger", "requester_id": by_telegram["id"]}
    ok(client.post("/v1/tickets", json=form, headers=AGENT), 201)

    merged = ok(client.post(f"/v1/people/{by_mail['id']}/merge", json={"merged_id": by_telegram["id"]}, headers=ADMIN))
    assert merged["addresses"] == [
        by_mail["addresses"][0],
        at_home,
        {"channel": "email", "address": "kim@home.example"},
    ]
    assert merged["merged_from"] == [by_telegram["id"]]
    assert ok(client.get(f"/v1/people/{by_telegram['id']}", headers=AGENT))["merged_into"] == by_mail["id"]

    code, text = send(port, a_message("From home", sender="Kim <kim@home.example>"), envelope_sender="kim@home.example")
    assert code == 250, text
    listed = eventually(lambda: ok(client.get(f"/v1/people/{by_mail['id']}/tickets", headers=AGENT))["tickets"],
                        lambda found: len(found) == 3)  # fmt: skip
    assert sorted((t["channel"], t["requester_id"]) for t in listed) == sorted(
        [("email", by_mail["id"]), ("email", by_mail["id"]), ("messenger", by_telegram["id"])]
    )  # a mail from the merged address lands on the survivor; the merged person's ticket keeps its requester
    assert ok(client.get(f"/v1/people/{by_telegram['id']}/tickets", headers=AGENT))["tickets"] == listed
    assert refused(client.post(f"/v1/people/{by_mail['id']}/merge", json={"merged_id": by_telegram["id"]},
                               headers=ADMIN), 409) == ["merged_id"]  # fmt: skip
    people = eventually(lambda: ok(client.get("/v1/people", params={"q": "kim"}, headers=AGENT))["people"],
                        lambda found: [p["id"] for p in found] == [by_mail["id"]])  # fmt: skip
    assert people[0]["merged_from"] == [by_telegram["id"]]


def test_people_are_found_by_name_and_address(gateway: tuple[httpx.Client, int]) -> None:
    client, _ = gateway
    northwind = ok(client.post("/v1/organisations", json={"name": "Northwind"}, headers=ADMIN), 201)
    lev = a_person(client, name="Лев Лебедев", organisation_id=northwind["id"],
                   addresses=[{"channel": "email", "address": "lev@northwind.example"}])  # fmt: skip
    kim = a_person(client, name="Kim Nakamura", addresses=[{"channel": "telegram", "address": "4711"}])

    def found(q: str) -> list[str]:
        return [p["id"] for p in ok(client.get("/v1/people", params={"q": q}, headers=AGENT))["people"]]

    eventually(lambda: found("ЛЕБЕДЕВ"), lambda ids: ids == [lev["id"]])  # in any case
    eventually(lambda: found("nakamura"), lambda ids: ids == [kim["id"]])
    assert found("northwind") == [lev["id"]]
    assert found("4711") == [kim["id"]]
    assert found("лев or kim") == [lev["id"], kim["id"]]
    assert found("-kim") == [lev["id"]]
    in_northwind = ok(client.get("/v1/people", params={"organisation_id": northwind["id"]}, headers=AGENT))
    assert [p["id"] for p in in_northwind["people"]] == [lev["id"]]
    organisations = ok(client.get("/v1/organisations", headers=AGENT))["organisations"]
    assert [o["name"] for o in organisations] == ["Northwind"]
