"""The API docs and the AsyncAPI page load everything from the service itself: on a machine
without internet they still show, instead of a blank page waiting for a CDN."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient

from schemas.topics import ROUTING_DECISIONS, SLA_CLOCKS, TICKETS
from services.chassis.http import asyncapi
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime

LINKS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""")


@pytest.fixture
def client() -> TestClient:
    app = Runtime("intake", Metrics("intake")).app(title="Service desk gateway API", version="1.0.0")
    asyncapi.serve(app, "intake", [TICKETS], {ROUTING_DECISIONS: "intake", SLA_CLOCKS: "intake"})
    return TestClient(app)


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/asyncapi"])
def test_a_docs_page_loads_its_scripts_and_styles_from_the_service_itself(client: TestClient, page: str) -> None:
    reply = client.get(page)
    assert reply.status_code == 200
    links = [a or b for a, b in LINKS.findall(reply.text)]
    assert links, "the page names its assets"
    outside = [link for link in links if re.match(r"^(https?:)?//", link)]
    assert outside == [], f"{page} loads from outside the service"
    for link in links:
        asset = client.get(urljoin(f"http://testserver{page}", link))
        assert asset.status_code == 200, f"{page}: {link} answers {asset.status_code}"
        assert asset.content, link
