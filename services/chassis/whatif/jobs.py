"""What-if jobs: a service's replays run on a thread of their own, their state a row of the service's store.

A job is `queued`, then `running` with its progress written as it goes (at most every `WRITE_EVERY` seconds, and
at the end), then `done` with the report or `failed` with the reason. Its row lives in the service's own store
(SQLite or PostgreSQL, beside its event tables), so any instance of the service reads it, and a job outlives
the process that ran it as a record: a job whose process died is marked `interrupted` when a process of the
same `owner` (the service's address) starts again, or by any reader once it has not been heard of for
`STALE_SECONDS` (the process never came back). A live job is heard of every `HEARTBEAT_SECONDS` whatever its
replay does, so one waiting for a slot or in a long phase that reports no progress is never taken for dead.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Literal

from eventsourcing.persistence import TrackingRecorder
from pydantic import BaseModel, Field

from services.chassis.storage.views import SqlView
from services.chassis.whatif.replay import Replay, WhatIfRequest

log = logging.getLogger(__name__)

WRITE_EVERY = 0.5
STALE_SECONDS = 120.0
HEARTBEAT_SECONDS = 30.0
Status = Literal["queued", "running", "done", "failed", "interrupted"]
UNFINISHED = ("queued", "running")

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS whatif_jobs (
    job_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    done BIGINT NOT NULL,
    total BIGINT NOT NULL,
    request TEXT NOT NULL,
    report TEXT,
    error TEXT,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL,
    heard_epoch DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS whatif_jobs_unfinished ON whatif_jobs (status, owner)",
]


class JobProgress(BaseModel):
    done: int = Field(description="Events replayed so far.")
    total: int = Field(description="Events of the window (0 while the history is being read).")


class WhatIfJob(BaseModel):
    """A what-if job: its state, progress and, once done, its report."""

    job_id: str
    kind: str
    status: Status
    progress: JobProgress
    days: int
    created_at: str
    report: dict[str, Any] | None = Field(None, description="The kind's report, once done.")
    error: str | None = Field(None, description="Why it failed or was interrupted.")


class WhatIfJobs:
    """The jobs of one service (`kind`: trigger, routing, sla), run with its `replay`."""

    def __init__(self, recorder: TrackingRecorder, kind: str = "", owner: str = "", workers: int = 2) -> None:
        self.view = SqlView(recorder, SCHEMA, name="whatif-jobs", version=1)
        self.kind, self.owner = kind, owner
        self._slots = threading.BoundedSemaphore(workers)  # jobs beyond these wait, queued

    def start(self) -> int:
        """Mark as interrupted the unfinished jobs of an earlier process of this owner (it died with them),
        and any not heard of in `STALE_SECONDS`; how many."""
        rows = self.view.statement(
            "UPDATE whatif_jobs SET status = 'interrupted', error = :why WHERE status IN ('queued', 'running')"
            " AND (owner = :owner OR heard_epoch < :stale) RETURNING job_id",
            {"why": "the service stopped while it ran", "owner": self.owner, "stale": time.time() - STALE_SECONDS},
        )
        if rows:
            log.warning("%d what-if job(s) interrupted by a stop of the service", len(rows))
        return len(rows)

    def submit(self, request: WhatIfRequest, replay: Replay) -> WhatIfJob:
        """Queue the replay of `request` and answer its job at once; it runs on a thread of its own."""
        job_id = f"{self.kind}-{uuid.uuid4()}"
        now = time.time()
        with self.view.transaction() as sql:
            sql.execute(
                "INSERT INTO whatif_jobs VALUES (:job_id, :tenant, :kind, 'queued', 0, 0, :request, NULL, NULL,"
                " :owner, :created_at, :heard)",
                {"job_id": job_id, "tenant": request.tenant, "kind": self.kind, "request": json.dumps(asdict(request)),
                 "owner": self.owner, "created_at": datetime.fromtimestamp(now, UTC).isoformat(), "heard": now},
            )  # fmt: skip
        # a daemon: a stopping service does not wait for a replay (the job is marked interrupted at its restart)
        threading.Thread(target=self._run, args=(job_id, request, replay), name=job_id, daemon=True).start()
        found = self.job(request.tenant, job_id)
        assert found is not None  # written just above
        return found

    def job(self, tenant: str, job_id: str) -> WhatIfJob | None:
        rows = self.view.query(
            "SELECT * FROM whatif_jobs WHERE job_id = :job_id AND tenant = :tenant",
            {"job_id": job_id, "tenant": tenant},
        )
        if not rows:
            return None
        row = rows[0]
        if row["status"] in UNFINISHED and row["heard_epoch"] < time.time() - STALE_SECONDS:
            row |= {"status": "interrupted", "error": "the service running it stopped answering"}
        return WhatIfJob(
            job_id=row["job_id"],
            kind=row["kind"],
            status=row["status"],
            progress=JobProgress(done=row["done"], total=row["total"]),
            days=json.loads(row["request"])["days"],
            created_at=row["created_at"],
            report=json.loads(row["report"]) if row["report"] else None,
            error=row["error"],
        )

    def _run(self, job_id: str, request: WhatIfRequest, replay: Replay) -> None:
        finished = threading.Event()
        threading.Thread(target=self._beat, args=(job_id, finished), name=f"{job_id}-beat", daemon=True).start()
        try:
            self._replay(job_id, request, replay)
        finally:
            finished.set()

    def _beat(self, job_id: str, finished: threading.Event) -> None:
        """The job is alive: its row heard of now, until it has finished."""
        while not finished.wait(HEARTBEAT_SECONDS):
            try:
                self._write(job_id)
            except Exception:  # a store out for a moment: the next beat tries again
                log.warning("what-if job %s: its heartbeat was not written", job_id, exc_info=True)

    def _replay(self, job_id: str, request: WhatIfRequest, replay: Replay) -> None:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last[0] >= WRITE_EVERY:
                last[0] = time.monotonic()
                self._write(job_id, status="running", done=done, total=total)

        try:
            with self._slots:
                self._write(job_id, status="running")
                report = replay(request, progress)
        except Exception as error:  # the job's outcome, not the service's: recorded on the job for its reader
            log.exception("what-if job %s failed", job_id)
            self._write(job_id, status="failed", error=str(error) or type(error).__name__)
            return
        events = int(report.get("events", 0))
        self._write(job_id, status="done", done=events, total=events, report=json.dumps(report))

    def _write(self, job_id: str, **changes: Any) -> None:
        changes["heard_epoch"] = time.time()
        columns = ", ".join(f"{name} = :{name}" for name in changes)
        with self.view.transaction() as sql:
            sql.execute(
                f"UPDATE whatif_jobs SET {columns} WHERE job_id = :job_id AND status IN ('queued', 'running')",
                changes | {"job_id": job_id},
            )
