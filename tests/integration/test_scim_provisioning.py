"""Provisioning from an identity provider over SCIM 2.0, driven as Entra ID or Okta would drive it, through
the gateway on real Kafka and PostgreSQL: an admin API key as the bearer token, users looked up by userName
before they are created, attributes patched, people deactivated, groups of people as organisations."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.client import headers
from tests.harness import Desk

TENANT = "acme"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def gateway(desk: Desk) -> httpx.Client:
    url = desk.service("intake").start().url
    return httpx.Client(base_url=url, headers=headers(TENANT), timeout=10.0)


@pytest.fixture
def idp(gateway: httpx.Client) -> httpx.Client:
    """The identity provider's client: the tenant admin's API key as its bearer token, SCIM's media type."""
    issued = gateway.post("/v1/api-keys", json={"name": "entra provisioning", "role": "admin"})
    assert issued.status_code == 201, issued.text
    return httpx.Client(
        base_url=f"{gateway.base_url}/scim/v2", timeout=10.0,
        headers={"Authorization": f"Bearer {issued.json()['key']}", "Content-Type": "application/scim+json"},
    )  # fmt: skip


def person(gateway: httpx.Client, person_id: str) -> dict[str, Any]:
    found = gateway.get(f"/v1/people/{person_id}")
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def test_an_identity_provider_provisions_a_person_changes_and_deactivates_them(
    gateway: httpx.Client, idp: httpx.Client
) -> None:
    run = uuid4().hex[:6]
    ana = f"ana-{run}@initech.example"
    config = idp.get("/ServiceProviderConfig")
    assert config.status_code == 200, config.text
    assert config.headers["content-type"].startswith("application/scim+json")
    assert config.json()["patch"]["supported"] is True

    looked_up = idp.get("/Users", params={"filter": f'userName eq "{ana}"'})
    assert looked_up.json()["totalResults"] == 0, looked_up.text
    created = idp.post("/Users", json={
        "schemas": [USER], "userName": ana, "externalId": "00u1abc", "active": True,
        "name": {"givenName": "Ana", "familyName": "Lima"}, "emails": [{"value": ana, "primary": True}],
        "preferredLanguage": "ru-RU", "timezone": "Europe/Moscow",
    })  # fmt: skip
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    assert created.headers["location"].endswith(f"/scim/v2/Users/{user_id}")
    assert (created.json()["userName"], created.json()["active"]) == (ana, True)
    profile = person(gateway, user_id)
    assert (profile["name"], profile["language"], profile["time_zone"]) == ("Ana Lima", "ru", "Europe/Moscow")
    assert profile["addresses"] == [{"channel": "email", "address": ana}]

    found = idp.get("/Users", params={"filter": f'userName eq "{ana.upper()}"'}).json()  # the store: no lag
    assert [u["id"] for u in found["Resources"]] == [user_id]
    again = idp.post("/Users", json={"schemas": [USER], "userName": ana})
    assert again.status_code == 409, again.text
    assert (again.json()["schemas"], again.json()["scimType"]) == ([ERROR], "uniqueness")

    patched = idp.patch(f"/Users/{user_id}", json={"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "name.familyName", "value": "Lima-Souza"},
        {"op": "Add", "path": "emails", "value": [{"value": f"ana.lima-{run}@initech.example"}]},
        {"op": "Replace", "path": "active", "value": "False"},  # Entra ID sends booleans as strings
    ]})  # fmt: skip
    assert patched.status_code == 200, patched.text
    profile = person(gateway, user_id)
    assert (profile["name"], profile["active"]) == ("Ana Lima-Souza", False)
    assert sorted(a["address"] for a in profile["addresses"]) == [ana, f"ana.lima-{run}@initech.example"]

    replaced = idp.put(f"/Users/{user_id}", json={
        "schemas": [USER], "userName": ana, "active": True, "displayName": "Ana L.",
    })  # fmt: skip
    assert replaced.status_code == 200, replaced.text
    profile = person(gateway, user_id)
    assert (profile["name"], profile["active"]) == ("Ana L.", True)
    assert profile["addresses"] == [{"channel": "email", "address": ana}]  # the other e-mail let go

    assert idp.delete(f"/Users/{user_id}").status_code == 204
    assert person(gateway, user_id)["active"] is False  # kept, as the requester of their tickets
    assert idp.get(f"/Users/{user_id}").json()["active"] is False


def test_groups_of_the_identity_provider_are_organisations_and_their_members_its_people(
    gateway: httpx.Client, idp: httpx.Client
) -> None:
    run = uuid4().hex[:6]
    ids = []
    for name in ("bo", "cy"):
        made = idp.post("/Users", json={"schemas": [USER], "userName": f"{name}-{run}@initech.example"})
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    group = idp.post("/Groups", json={"schemas": [GROUP], "displayName": f"Initech {run}",
                                      "members": [{"value": ids[0]}]})  # fmt: skip
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    assert person(gateway, ids[0])["organisation_id"] == group_id
    assert gateway.get(f"/v1/organisations/{group_id}").json()["name"] == f"Initech {run}"

    changed = idp.patch(f"/Groups/{group_id}", json={"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": ids[1]}]},
        {"op": "remove", "path": f'members[value eq "{ids[0]}"]'},
        {"op": "replace", "path": "displayName", "value": f"Initech Ltd {run}"},
    ]})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert [m["value"] for m in changed.json()["members"]] == [ids[1]]
    assert person(gateway, ids[0])["organisation_id"] is None
    assert person(gateway, ids[1])["organisation_id"] == group_id
    assert idp.get(f"/Users/{ids[1]}").json()["groups"] == [{"value": group_id, "display": f"Initech Ltd {run}"}]

    assert idp.delete(f"/Groups/{group_id}").status_code == 204
    assert person(gateway, ids[1])["organisation_id"] is None


def test_what_an_identity_provider_gets_wrong_is_answered_the_scim_way(
    gateway: httpx.Client, idp: httpx.Client
) -> None:
    not_an_address = idp.post("/Users", json={"schemas": [USER], "userName": "bjensen"})
    assert not_an_address.status_code == 400, not_an_address.text
    assert not_an_address.json()["scimType"] == "invalidValue"
    assert "e-mail address" in not_an_address.json()["detail"]
    no_user_name = idp.post("/Users", json={"schemas": [USER]})
    assert no_user_name.status_code == 400, no_user_name.text
    bad_zone = idp.post("/Users", json={"schemas": [USER], "userName": f"x-{uuid4().hex[:6]}@x.example",
                                        "timezone": "Mars/Olympus"})  # fmt: skip
    assert bad_zone.status_code == 400, bad_zone.text
    garbled = idp.get("/Users", params={"filter": "userName eq"})
    assert (garbled.status_code, garbled.json()["scimType"]) == (400, "invalidFilter"), garbled.text
    missing = idp.get(f"/Users/{uuid4()}")
    assert (missing.status_code, missing.json()["schemas"]) == (404, [ERROR]), missing.text
    assert idp.get(f"/Groups/{uuid4()}").status_code == 404
    agent = httpx.Client(base_url=f"{gateway.base_url}/scim/v2", headers=headers(TENANT, roles=("agent",)))
    assert agent.get("/Users").status_code == 403
