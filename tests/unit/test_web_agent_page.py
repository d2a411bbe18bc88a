"""The person's page of an agent: an id that names no customer shows the agent as routing knows them
(against an API that answers like the gateway; the browser tests drive the real desk)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.unit.test_admin_settings_pages import signed_in
from tests.unit.test_web_pages import SignedInAs, pages_over

VERA = {"id": "vera", "groups": ["first-line", "second-line"], "skills": ["vpn"], "tier": 2, "capacity": 3,
        "presence": "away", "load": 1}  # fmt: skip


@pytest.fixture
def desk(tmp_path: Path) -> tuple[TestClient, SignedInAs]:
    def api(request: httpx.Request) -> httpx.Response:
        answers: dict[str, Any] = {"/v1/people/agents/vera": VERA}
        found = answers.get(request.url.path)
        return httpx.Response(200, json=found) if found else httpx.Response(404, json={"title": "Not found"})

    return pages_over(tmp_path, api)


def test_an_agents_id_shows_their_groups_capacity_and_presence(desk: tuple[TestClient, SignedInAs]) -> None:
    client, sign_in = desk
    signed_in(sign_in, "agent-ann", "agent")
    page = client.get("/people/vera")
    assert page.status_code == 200, page.text
    for shown in ("<h1>vera</h1>", "first-line, second-line", "vpn", "Capacity", "Away", "Open tickets"):
        assert shown in page.text
    assert client.get("/people/nobody").status_code == 404
