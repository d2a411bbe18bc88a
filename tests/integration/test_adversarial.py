"""Every endpoint of the gateway's OpenAPI document, attacked: anonymously, with an expired
token, a token for another audience, a revoked API key, as another tenant's admin, and as a
customer reaching for another customer's ticket. None may succeed on acme's things, and no
answer may carry acme's data (bodies searched for markers only acme's things hold).
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.client import addresses_of, eventually, headers, ticket_form
from tests.harness import Desk
from tests.tokens import token

MARKER = "zq7-acme-only"  # in every acme thing an attacker might try to read
SCOPED = ("ticket_id", "webhook_id", "delivery_id", "attachment_id", "comment_id", "key_id", "requester_id")


class Acme:
    """Tenant acme, set up by its admin: a customer's ticket with a comment and a file, a
    webhook, an API key (revoked), a custom field, a routing group and agent, an SLA policy.
    (The field's definition is shown to the tenant's customers, who fill it in: no marker.)"""

    def __init__(self, client: httpx.Client) -> None:
        self.http = client
        admin = headers("acme")
        self.ok("PUT", "/v1/routing/groups/first-line", admin, {"tier": 1, "default": True})
        self.ok("PUT", "/v1/routing/agents/ann", admin, {"groups": ["first-line"], "capacity": 5})
        self.ok("PUT", "/v1/sla/policies/standard", admin, {"targets": {"resolution": "P1D"}})
        self.ok("PUT", "/v1/fields/contract", admin, {"label": "Contract", "kind": "text"})
        carol = headers("acme", "carol", ("customer",))
        ticket = self.ok("POST", "/v1/tickets", carol, ticket_form(title=f"Printer {MARKER}", requester_id="x"))
        self.ticket_id = ticket["id"]
        mine = addresses_of(self.http, "acme", ticket["requester_id"])
        assert mine == [("chat", "carol")], "a customer opens tickets for themself (the person they are) only"
        comment = self.ok("POST", f"/v1/tickets/{self.ticket_id}/comments", carol,
                          {"body": f"details {MARKER}", "public": True, "channel": "email"})  # fmt: skip
        self.comment_id = comment["comments"][-1]["id"]
        attached = self.http.post(f"/v1/tickets/{self.ticket_id}/attachments", params={"filename": "log.txt"},
                                  content=MARKER.encode(), headers=carol | {"content-type": "text/plain"})  # fmt: skip
        assert attached.status_code == 201, attached.text
        self.attachment_id = attached.json()["id"]
        self.ok("PUT", "/v1/webhooks/settings/private-network", admin, {"allow_private_network": True})
        hook = self.ok("POST", "/v1/webhooks", admin, {"url": f"http://127.0.0.1:9/{MARKER}"})
        self.webhook_id = hook["id"]
        key = self.ok("POST", "/v1/api-keys", admin, {"name": f"crm {MARKER}", "role": "admin"})
        self.key_id, self.revoked_key = key["id"], key["key"]
        revoked = self.http.post(f"/v1/api-keys/{self.key_id}/revoke", json={"reason": "leaked"}, headers=admin)
        assert revoked.status_code == 204

    def ok(self, method: str, path: str, who: dict[str, str], body: Any) -> Any:
        reply = self.http.request(method, path, json=body, headers=who)
        assert reply.is_success, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json()

    def path_values(self) -> dict[str, str]:
        return {
            "ticket_id": self.ticket_id, "comment_id": self.comment_id, "attachment_id": self.attachment_id,
            "webhook_id": self.webhook_id, "delivery_id": str(uuid.uuid4()), "key_id": self.key_id,
            "group_id": "first-line", "agent_id": "ann", "rule_id": "r1", "policy_id": "standard",
            "calendar_id": "office", "key": "contract", "requester_id": "carol",
        }  # fmt: skip


def endpoints(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for path, operations in sorted(document["paths"].items()):
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    for name in ("routing", "sla", "analytics"):
        desk.env[f"SERVICEDESK_{name.upper()}_URL"] = desk.service(name).start().url
    intake = desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=10.0) as client:
        eventually(lambda: client.get("/openapi.json").json()["paths"],
                   lambda paths: all(any(p.startswith(prefix) for p in paths)
                                     for prefix in ("/v1/routing", "/v1/sla", "/v1/reports")),
                   timeout=60)  # fmt: skip
        yield client


def test_no_attack_on_any_endpoint_succeeds_or_leaks(gateway: httpx.Client) -> None:
    acme = Acme(gateway)
    document = gateway.get("/openapi.json").json()
    values = acme.path_values()
    attackers: dict[str, Callable[[], dict[str, str]]] = {
        "anonymous": dict,
        "expired token": lambda: {"Authorization": f"Bearer {token('acme', expires_in=-300)}"},
        "token for another audience": lambda: {"Authorization": f"Bearer {token('acme', audience='billing-app')}"},
        "revoked API key": lambda: {"X-API-Key": acme.revoked_key},
        "another tenant's admin": lambda: headers("globex", "mallory"),
        "another customer": lambda: headers("acme", "dave", ("customer",)),
    }
    tally: Counter[tuple[str, str]] = Counter()
    leaks: list[str] = []
    for method, template in endpoints(document):
        path = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), template)
        names = set(re.findall(r"\{(\w+)\}", template))
        for attacker, credentials in attackers.items():
            reply = gateway.request(method, path, headers=credentials(), json={}, timeout=5.0) \
                if not template.endswith("/stream") else _first_bytes(gateway, path, credentials())  # fmt: skip
            status = reply.status_code
            if attacker in ("another tenant's admin", "another customer"):
                # they may use their own things (their tickets, their tenant's groups), never carol's or acme's
                failed = status < 400 and bool(names & set(SCOPED))
            else:
                failed = status != 401
            leaked = MARKER in reply.text
            tally[(attacker, "refused" if status >= 400 else "answered")] += 1
            if failed or leaked:
                leaks.append(f"{attacker}: {method} {template} -> {status} {reply.text[:200]}")
    print(f"{len(list(endpoints(document)))} endpoints x {len(attackers)} attackers: {dict(sorted(tally.items()))}")
    assert not leaks, "\n".join(leaks)
    # and acme's own people still get their things
    assert acme.ok("GET", f"/v1/tickets/{acme.ticket_id}", headers("acme", "carol", ("customer",)), None)["id"]


def _first_bytes(client: httpx.Client, path: str, credentials: dict[str, str]) -> httpx.Response:
    """A streaming endpoint: its status and whatever it sends in its first second."""
    try:
        with client.stream("GET", path, headers=credentials, timeout=httpx.Timeout(5.0, read=1.0)) as reply:
            chunks = []
            try:
                for chunk in reply.iter_bytes():
                    chunks.append(chunk)
            except httpx.ReadTimeout:
                pass
            return httpx.Response(reply.status_code, content=b"".join(chunks))
    except httpx.ReadTimeout:
        return httpx.Response(599)


def test_a_caller_over_the_rate_limit_is_told_to_wait_and_others_are_not(desk: Desk) -> None:
    desk.env["SERVICEDESK_RATE_LIMIT_PER_MINUTE"] = "5"
    intake = desk.service("intake", "api").start()
    with httpx.Client(base_url=intake.url, timeout=10.0) as client:
        answers = [client.get("/v1/tickets", headers=headers("acme", "busy-bot")).status_code for _ in range(6)]
        assert answers == [200] * 5 + [429]
        limited = client.get("/v1/tickets", headers=headers("acme", "busy-bot"))
        assert limited.headers["content-type"] == "application/problem+json"
        assert int(limited.headers["Retry-After"]) >= 1
        assert client.get("/v1/tickets", headers=headers("acme", "calm-person")).status_code == 200
