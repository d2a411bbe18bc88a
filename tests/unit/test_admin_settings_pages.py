"""The admin's settings screens against an API that answers like the gateway: who sees them, what they
send, where a refusal is shown (the browser tests drive the real desk)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.web.sessions import Session
from tests.unit.test_web_pages import SignedInAs, pages_over

KEY = "sdk_acme_0123456789abcdef_" + "s" * 43
ISSUED: dict[str, Any] = {
    "id": "0123456789abcdef", "name": "crm sync", "role": "agent", "groups": [], "issued_by": "admin-1",
    "issued_at": "2026-12-04T09:30:00+00:00", "revoked_at": None, "revoked_reason": None,
}  # fmt: skip
ANSWERS: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {
    ("GET", "/v1/fields"): (200, {"fields": {}}),
    ("GET", "/v1/webhooks"): (200, {"webhooks": [], "allow_private_network": False}),
    ("POST", "/v1/webhooks"): (422, {"title": "Invalid request", "detail": "invalid field(s): types.0",
                                     "errors": [{"field": "types.0", "message": "bad", "type": "x"}]}),
    ("GET", "/v1/api-keys"): (200, {"api_keys": [ISSUED]}),
    ("POST", "/v1/api-keys"): (201, ISSUED | {"key": KEY}),
    ("GET", "/v1/audit/erasures"): (200, {"erasures": []}),
    ("GET", "/v1/people/customer-kim/export"): (200, {"requester_id": "customer-kim", "erased": False,
        "profile": {"name": "Kim Nakamura", "address": "kim@example.com"}, "tickets": [{"title": "VPN drops"}]}),
    ("POST", "/v1/people/customer-kim/erasure"): (200, {}),
}  # fmt: skip
SCREENS = ("/admin/fields", "/admin/webhooks", "/admin/api-keys", "/admin/erasures")


@pytest.fixture
def asked() -> list[httpx.Request]:
    return []


@pytest.fixture
def desk(tmp_path: Path, asked: list[httpx.Request]) -> tuple[TestClient, SignedInAs]:
    def api(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        status, body = ANSWERS.get((request.method, request.url.path), (404, {"title": "Not found"}))
        return httpx.Response(status, json=body)

    return pages_over(tmp_path, api)


def signed_in(sign_in: SignedInAs, subject: str, role: str) -> Session:
    sign_in.person = sign_in.sessions.begin(
        tenant="acme", subject=subject, name=subject, roles=[role], groups=[], access_token=f"{subject}-token",
        expires=datetime.now(UTC) + timedelta(hours=1), locale=None, organisation=None,
    )  # fmt: skip
    return sign_in.person


def test_an_agent_is_refused_the_settings_screens(desk: tuple[TestClient, SignedInAs]) -> None:
    client, sign_in = desk
    signed_in(sign_in, "agent-ann", "agent")
    assert [client.get(screen).status_code for screen in SCREENS] == [403] * len(SCREENS)


def test_an_issued_key_is_shown_in_the_answer_that_issued_it_and_nowhere_else(
    desk: tuple[TestClient, SignedInAs], asked: list[httpx.Request]
) -> None:
    client, sign_in = desk
    admin = signed_in(sign_in, "admin-1", "admin")
    issued = client.post("/admin/api-keys", data={"csrf_token": admin.csrf_token, "name": "crm sync", "role": "agent",
                                                  "form_key": "once"})  # fmt: skip
    assert issued.status_code == 201
    assert KEY in issued.text
    assert asked[0].headers["Idempotency-Key"] == "once"
    assert asked[0].headers["Authorization"] == "Bearer admin-1-token"
    assert KEY not in client.get("/admin/api-keys").text


def test_the_apis_refusal_of_an_event_type_is_shown_beside_the_event_types(desk: tuple[TestClient, SignedInAs]) -> None:
    client, sign_in = desk
    admin = signed_in(sign_in, "admin-1", "admin")
    refused = client.post(
        "/admin/webhooks", data={"csrf_token": admin.csrf_token, "url": "https://example.com/h", "types": "Nope"}
    )
    assert refused.status_code == 422
    assert 'id="types-error"' in refused.text


def test_a_person_is_erased_only_after_the_confirmation_that_names_them(
    desk: tuple[TestClient, SignedInAs], asked: list[httpx.Request]
) -> None:
    client, sign_in = desk
    admin = signed_in(sign_in, "admin-1", "admin")
    form = {"csrf_token": admin.csrf_token, "requester_id": "customer-kim", "reason": "GDPR-42"}
    review = client.post("/admin/erasures/review", data=form)
    assert "Kim Nakamura" in review.text
    assert "VPN drops" in review.text
    assert [r.method for r in asked].count("POST") == 0
    erased = client.post("/admin/erasures", data=form | {"form_key": "k"})
    assert erased.status_code == 303
    (erasure,) = [r for r in asked if r.method == "POST"]
    assert json.loads(erasure.content) == {"reason": "GDPR-42"}


def test_a_settings_form_without_its_token_is_refused(desk: tuple[TestClient, SignedInAs]) -> None:
    client, sign_in = desk
    signed_in(sign_in, "admin-1", "admin")
    assert client.post("/admin/fields", data={"key": "plan", "label": "Plan"}).status_code == 403
