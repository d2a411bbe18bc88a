"""What the import tests share: the desk's gateway as the tenant's admin, and a ticket found by the external
reference an import gave it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.client import eventually, headers
from tests.harness import Desk

Json = dict[str, Any]
TENANT = "acme"


def admin_gateway(desk: Desk) -> httpx.Client:
    """Intake started, and its gateway as the tenant's admin."""
    url = desk.service("intake").start().url
    return httpx.Client(base_url=url, headers=headers(TENANT), timeout=10.0)


def by_ref(gateway: httpx.Client, ref: str) -> Json:
    """The one ticket whose external reference is `ref`, once the list shows it."""
    page = eventually(lambda: gateway.get("/v1/tickets", params={"tag": ref}).json(), lambda p: len(p["tickets"]) == 1)
    ticket: Json = gateway.get(f"/v1/tickets/{page['tickets'][0]['id']}").json()
    return ticket
