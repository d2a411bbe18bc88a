"""What-if jobs on SQLite: a job runs on its thread with its progress written, ends done with its report or
failed with why, and one whose process died is interrupted when the service starts again. The gateway's
`/v1/what-if` forwards by kind to the service that owns it, and passes its answer on."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.chassis.whatif import jobs as jobs_module
from services.chassis.whatif.jobs import WhatIfJob, WhatIfJobs
from services.chassis.whatif.replay import Progress, WhatIfRequest
from services.intake.http import what_if
from tests.client import eventually
from tests.tokens import authenticated, token

REQUEST = WhatIfRequest("acme", 7, {"name": "x"})


def jobs_of(tmp_path: Path, owner: str = "host:8080") -> WhatIfJobs:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    return WhatIfJobs(tracking_recorder(settings, "rules"), kind="trigger", owner=owner)


def ended(jobs: WhatIfJobs, job_id: str) -> WhatIfJob:
    job = eventually(lambda: jobs.job("acme", job_id), lambda j: j is not None and j.status in ("done", "failed"))
    assert job is not None
    return job


def test_a_job_reports_its_progress_then_its_report(tmp_path: Path) -> None:
    jobs = jobs_of(tmp_path)
    halfway, go_on = threading.Event(), threading.Event()

    def replay(request: WhatIfRequest, progress: Progress) -> dict[str, Any]:
        progress(5, 10)
        halfway.set()
        go_on.wait(10)
        return {"events": 10, "days": request.days}

    job = jobs.submit(REQUEST, replay)
    assert job.job_id.startswith("trigger-")
    assert halfway.wait(10)
    running = eventually(lambda: jobs.job("acme", job.job_id), lambda j: j is not None and j.progress.done == 5)
    assert running is not None
    assert (running.status, running.progress.total) == ("running", 10)
    assert jobs.job("other-tenant", job.job_id) is None
    go_on.set()
    done = ended(jobs, job.job_id)
    assert (done.status, done.report, done.progress.done) == ("done", {"events": 10, "days": 7}, 10)


def test_a_failed_replay_fails_its_job_with_why(tmp_path: Path) -> None:
    jobs = jobs_of(tmp_path)

    def replay(request: WhatIfRequest, progress: Progress) -> dict[str, Any]:
        raise RuntimeError("the topics do not answer")

    failed = ended(jobs, jobs.submit(REQUEST, replay).job_id)
    assert (failed.status, failed.error) == ("failed", "the topics do not answer")


def test_a_job_whose_process_died_is_interrupted_when_the_service_starts_again(tmp_path: Path) -> None:
    jobs = jobs_of(tmp_path)
    never = threading.Event()
    started = threading.Event()

    def replay(request: WhatIfRequest, progress: Progress) -> dict[str, Any]:
        started.set()
        never.wait(30)
        return {}

    job = jobs.submit(REQUEST, replay)
    assert started.wait(10)
    other = jobs_of(tmp_path, owner="elsewhere:8080")
    assert other.start() == 0  # another instance's running job is not its to interrupt
    restarted = jobs_of(tmp_path)
    assert restarted.start() == 1
    found = restarted.job("acme", job.job_id)
    assert found is not None
    assert found.status == "interrupted"
    never.set()
    assert restarted.job("acme", job.job_id).status == "interrupted"  # type: ignore[union-attr]


def test_the_gateway_forwards_each_kind_to_its_service_and_their_refusals_as_they_are() -> None:
    seen: list[str] = []

    def services(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "rules":
            job = {"job_id": "trigger-1", "kind": "trigger", "status": "queued", "progress": {"done": 0, "total": 0},
                   "days": 7, "created_at": "2026-12-05T00:00:00+00:00"}  # fmt: skip
            return httpx.Response(202, json=job, headers={"Location": "/v1/triggers/what-if/trigger-1"})
        return httpx.Response(404, json={"title": "Not found", "detail": "no trigger x-1", "field": "trigger_id"})

    app = authenticated(Runtime("intake", Metrics("intake")).app(title="gateway", version="1"))
    upstreams = {"rules": "http://rules", "routing": "http://routing", "sla": "http://sla"}
    app.include_router(what_if.router(upstreams, httpx.AsyncClient(transport=httpx.MockTransport(services))))
    client = TestClient(app)
    admin = {"Authorization": f"Bearer {token('acme', 'admin-1', roles=('admin',))}"}
    started = client.post("/v1/what-if", json={"kind": "trigger", "days": 7, "candidate": {}}, headers=admin)
    assert started.status_code == 202, started.text
    assert started.headers["location"] == "/v1/what-if/trigger-1"
    assert seen == ["http://rules/v1/triggers/what-if"]
    routing = client.post("/v1/what-if", json={"kind": "routing", "days": 7, "candidate": {}}, headers=admin)
    assert seen[-1] == "http://routing/v1/routing/what-if"
    assert (routing.status_code, routing.json()["field"]) == (404, "trigger_id"), "the service's answer, as it is"
    agent = {"Authorization": f"Bearer {token('acme', 'agent-1', roles=('agent',))}"}
    assert (
        client.post("/v1/what-if", json={"kind": "sla", "days": 7, "candidate": {}}, headers=agent).status_code == 403
    )
    assert client.get("/v1/what-if/nothing-1", headers=admin).status_code == 404


def test_a_job_silent_for_longer_than_the_stale_window_is_still_running_while_its_process_lives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_module, "STALE_SECONDS", 1.0)
    monkeypatch.setattr(jobs_module, "HEARTBEAT_SECONDS", 0.2)
    jobs = jobs_of(tmp_path)
    go_on = threading.Event()

    def replay(request: WhatIfRequest, progress: Progress) -> dict[str, Any]:
        go_on.wait(10)  # reading the window, building the sandbox: no progress reported
        return {"events": 0}

    job = jobs.submit(REQUEST, replay)
    for _ in range(15):  # three stale windows
        time.sleep(0.2)
        assert jobs.job("acme", job.job_id).status == "running"  # type: ignore[union-attr]
    go_on.set()
    assert ended(jobs, job.job_id).status == "done"
