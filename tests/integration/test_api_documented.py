"""The gateway's OpenAPI document says what the API answers: every operation documents its errors
as problem+json (and its CSV, event-stream and file answers), bearer token and API key are
alternatives, and a fuzzer driven by the document finds no server error and no answer the
document leaves out. On a real desk: PostgreSQL, Kafka, the five services behind the gateway.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import CheckFunction, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import openapi_contract
from tests.client import eventually, headers, open_ticket
from tests.harness import Desk

PREFIXES = ("/v1/routing", "/v1/sla", "/v1/reports", "/v1/kb/articles", "/v1/triggers")
CHECKS: list[CheckFunction] = [
    not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
]  # fmt: skip
EXAMPLES = 25  # per operation: ~70 operations x 25 requests (valid, invalid, on a real ticket) in about a minute
NOT_FUZZED = {
    ("GET", "/v1/events/stream"): "an endless Server-Sent Events stream: no answer ever ends to be checked",
    ("GET", "/v1/tickets/{ticket_id}/stream"): "a ticket's endless Server-Sent Events stream, likewise",
}


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


def test_the_fuzzer_finds_no_server_error_and_no_answer_the_document_leaves_out(gateway: httpx.Client) -> None:
    """Schemathesis, from the gateway's own document: valid and invalid requests to every operation
    as tenant acme's admin; each answer must be no 5xx, of a documented status and media type, and
    match the documented schema."""
    document = gateway.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    admin = headers("acme")
    ticket_id = open_ticket(gateway, "acme")  # so the ticket's operations also meet a ticket that exists
    failures: dict[str, str] = {}
    answered: list[Any] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if (operation.method.upper(), operation.path) in NOT_FUZZED:
            continue
        names = {p.name for p in operation.iter_parameters()}
        query = {"wait": 0} if "wait" in names else None  # a long poll's wait, not the fuzzer's
        strategies = [operation.as_strategy(mode, query=query) for mode in GenerationMode]
        if "ticket_id" in names:
            strategies.append(operation.as_strategy(query=query, path_parameters={"ticket_id": ticket_id}))
        cases = st.one_of(*strategies)

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=cases)
        def fuzz(case: Any) -> None:
            answered.append(
                case.call_and_validate(base_url=str(gateway.base_url), headers=admin, checks=CHECKS, timeout=15)
            )

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - every operation's findings, not the first
            failures[label] = str(error)[:1500]
    assert not failures, "\n\n".join(f"== {label}\n{found}" for label, found in failures.items())
    statuses = Counter(response.status_code for response in answered)
    assert len(answered) > 500, statuses
    assert all(statuses[status] for status in (200, 201, 404, 409, 422)), f"the fuzz reached little: {statuses}"
