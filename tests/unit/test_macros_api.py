"""Macros through intake's API in-process (in-memory store): the rules of who makes, sees and applies which."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.intake.attachments.blobs import FileBlobStore
from services.intake.http.app import create_app
from tests.client import ticket_form
from tests.privacy import memory_intake
from tests.tokens import authenticated, token

TENANT = "acme"


def person(subject: str, *roles: str, groups: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(TENANT, subject, roles=roles, groups=groups, name=subject.title())}"}


AGENT = person("agent-1", "agent", groups=("network",))
OTHER_AGENT = person("agent-2", "agent", groups=("billing",))
SUPERVISOR = person("boss-1", "supervisor")
CUSTOMER = person("customer-42", "customer")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    app = authenticated(Runtime("intake", Metrics("intake")).app(title="intake", version="1"))
    with TestClient(create_app(app, memory_intake(), FileBlobStore(tmp_path / "blobs"), max_upload=1024)) as client:
        yield client


def macro(**changes: Any) -> dict[str, Any]:
    return {
        "title": "VPN reset",
        "body": {"en": "Hello {{ requester.name }}, ticket {{ ticket.number }}: {{ agent.name }}.", "ru": "Привет"},
        "actions": {"status": "pending", "priority": "P1", "tags_add": ["vpn-reset"]},
    } | changes


def test_an_agent_keeps_a_personal_macro_that_no_colleague_sees(api: TestClient) -> None:
    made = api.post("/v1/macros", json=macro(), headers=AGENT)
    assert made.status_code == 201, made.text
    macro_id = made.json()["id"]

    assert [m["id"] for m in api.get("/v1/macros", headers=AGENT).json()["macros"]] == [macro_id]
    assert api.get("/v1/macros", headers=OTHER_AGENT).json()["macros"] == []
    assert api.get(f"/v1/macros/{macro_id}", headers=OTHER_AGENT).status_code == 404
    assert api.patch(f"/v1/macros/{macro_id}", json={"title": "Mine"}, headers=OTHER_AGENT).status_code == 404


def test_only_a_supervisor_shares_a_macro_and_its_groups_see_it(api: TestClient) -> None:
    refused = api.post("/v1/macros", json=macro(scope="shared"), headers=AGENT)
    shared = api.post("/v1/macros", json=macro(scope="shared", groups=["network"]), headers=SUPERVISOR)

    assert refused.status_code == 403
    assert shared.status_code == 201, shared.text
    assert len(api.get("/v1/macros", headers=AGENT).json()["macros"]) == 1
    assert api.get("/v1/macros", headers=OTHER_AGENT).json()["macros"] == []
    assert api.patch(f"/v1/macros/{shared.json()['id']}", json={"title": "x"}, headers=AGENT).status_code == 403


def test_a_body_that_does_not_render_is_refused_naming_its_language(api: TestClient) -> None:
    broken = api.post("/v1/macros", json=macro(body={"en": "ok", "ru": "{{ ticket.nope }}"}), headers=AGENT)
    unclosed = api.post("/v1/macros", json=macro(body={"en": "{% if %}"}), headers=AGENT)

    assert broken.status_code == 422
    assert [e["field"] for e in broken.json()["errors"]] == ["body.ru"]
    assert [e["field"] for e in unclosed.json()["errors"]] == ["body.en"]


def test_a_revision_is_a_new_version_and_a_stale_one_is_refused(api: TestClient) -> None:
    macro_id = api.post("/v1/macros", json=macro(), headers=AGENT).json()["id"]

    revised = api.patch(f"/v1/macros/{macro_id}", json={"title": "VPN"}, headers=AGENT | {"If-Match": '"1"'})
    stale = api.patch(f"/v1/macros/{macro_id}", json={"title": "Old"}, headers=AGENT | {"If-Match": '"1"'})
    retired = api.delete(f"/v1/macros/{macro_id}", headers=AGENT)
    versions = api.get(f"/v1/macros/{macro_id}/versions", headers=AGENT).json()["versions"]

    assert revised.status_code == 200
    assert revised.headers["ETag"] == '"2"'
    assert stale.status_code == 412
    assert retired.status_code == 204
    assert [v["event"] for v in versions] == ["macro.created", "macro.revised", "macro.retired"]
    assert api.get("/v1/macros", headers=AGENT).json()["macros"] == []


def test_applying_a_macro_replies_and_acts_in_one_save_led_by_the_macro(api: TestClient) -> None:
    ticket = api.post("/v1/tickets", json=ticket_form(requester_id="customer-42"), headers=SUPERVISOR).json()
    macro_id = api.post("/v1/macros", json=macro(), headers=AGENT).json()["id"]

    preview = api.post(f"/v1/tickets/{ticket['id']}/macros/{macro_id}/preview", headers=AGENT)
    applied = api.post(f"/v1/tickets/{ticket['id']}/macros/{macro_id}", headers=AGENT | {"Idempotency-Key": "k-1"})
    again = api.post(f"/v1/tickets/{ticket['id']}/macros/{macro_id}", headers=AGENT | {"Idempotency-Key": "k-1"})
    history = api.get(f"/v1/tickets/{ticket['id']}/history", headers=AGENT).json()["events"]

    assert preview.status_code == 200, preview.text
    assert preview.json()["body"] == f"Hello , ticket {ticket['number']}: Agent-1."
    assert applied.status_code == 200, applied.text
    assert again.json()["version"] == applied.json()["version"]
    assert applied.json()["status"] == "pending"
    assert applied.json()["priority"] == "P1"
    assert [c["body"] for c in applied.json()["comments"]] == [preview.json()["body"]]
    names = [e["event"] for e in history]
    assert names[names.index("macro_applied") :] == ["macro_applied", "comment_added", "priority_changed",
                                                      "tags_changed", "marked_pending"]  # fmt: skip
    assert len({e["correlation_id"] for e in history[names.index("macro_applied") :]}) == 1


def test_a_customer_has_no_macros(api: TestClient) -> None:
    ticket = api.post("/v1/tickets", json=ticket_form(requester_id="customer-42"), headers=SUPERVISOR).json()
    macro_id = api.post("/v1/macros", json=macro(), headers=AGENT).json()["id"]

    assert api.get("/v1/macros", headers=CUSTOMER).status_code == 403
    assert api.post("/v1/macros", json=macro(), headers=CUSTOMER).status_code == 403
    assert api.post(f"/v1/tickets/{ticket['id']}/macros/{macro_id}", headers=CUSTOMER).status_code == 403
