"""The gateway's OpenAPI document says what the API answers: every operation documents its errors
as problem+json (and its CSV, event-stream and file answers), and bearer token and API key are
alternatives. On a real desk: PostgreSQL, Kafka, the five services behind the gateway. (The fuzzer
driven by the documents is test_api_fuzzed.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests import openapi_contract
from tests.client import eventually, headers
from tests.harness import Desk

PREFIXES = ("/v1/routing", "/v1/sla", "/v1/reports", "/v1/kb/articles", "/v1/triggers")


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    for name in ("routing", "sla", "analytics", "knowledge", "rules"):
        desk.env[f"SERVICEDESK_{name.upper()}_URL"] = desk.service(name).start().url
    intake = desk.service("intake", "api").start()  # the gateway (no mail listener to share a port with)
    with httpx.Client(base_url=intake.url, timeout=10.0) as client:
        eventually(lambda: client.get("/openapi.json").json()["paths"],
                   lambda paths: all(any(p.startswith(prefix) for p in paths) for prefix in PREFIXES),
                   timeout=60)  # fmt: skip
        yield client


def test_every_operation_documents_its_errors_as_problems_and_its_other_media_types(gateway: httpx.Client) -> None:
    document = gateway.get("/openapi.json").json()
    assert not openapi_contract.faults(document), "\n".join(openapi_contract.faults(document))
    assert not openapi_contract.declared_answers(document), openapi_contract.declared_answers(document)


def test_a_valid_token_is_believed_whatever_the_x_api_key_header_says(gateway: httpx.Client) -> None:
    admin = headers("acme")
    assert gateway.get("/v1/tickets", headers=admin | {"X-API-Key": "not-a-key"}).status_code == 200
    refused = gateway.get("/v1/tickets", headers={"X-API-Key": "not-a-key"})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
