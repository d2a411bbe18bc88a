"""Every answer says what it took here, and the duration is counted under the route's template."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime


def test_an_answer_carries_its_server_timing_and_is_counted_under_its_route_template() -> None:
    metrics = Metrics("intake")
    app = Runtime("intake", metrics).app()

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    with TestClient(app) as client:
        reply = client.get("/v1/things/42")
        client.get("/health/live")
        missing = client.get("/nowhere")

    assert reply.status_code == 200
    assert reply.json() == {"id": "42"}
    assert reply.headers["Server-Timing"].startswith("app;dur=")
    assert missing.status_code == 404
    assert missing.headers["Server-Timing"].startswith("app;dur=")
    counted = {
        (s.labels["method"], s.labels["route"], s.labels["status"])
        for family in metrics.registry.collect()
        if family.name == "servicedesk_http_request_duration_seconds"
        for s in family.samples
        if s.name.endswith("_count")
    }
    assert counted == {("GET", "/v1/things/{thing_id}", "200"), ("GET", "unmatched", "404")}
