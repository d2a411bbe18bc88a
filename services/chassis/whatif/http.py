"""A service's what-if job endpoints, the same for every kind: `POST <path>` starts a replay of the caller's
tenant as a job (202, `Location` naming it), `GET <path>/{job_id}` reads its state, progress and report.
Admins only. The candidate is checked before the job starts (`check`: a wrong one answers 422 naming the
field, e.g. `candidate.if[0].op`), so a job fails only for what the replay itself meets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from eventsourcing.persistence import TrackingRecorder
from fastapi import APIRouter, FastAPI, Path, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.chassis.http import openapi
from services.chassis.http.auth import Role
from services.chassis.http.identity import CurrentIdentity, Identity, requires
from services.chassis.runtime.errors import CommandRefusedError, UnknownThingError
from services.chassis.whatif.jobs import WhatIfJob, WhatIfJobs
from services.chassis.whatif.replay import Replay, WhatIfRequest

Candidate = TypeVar("Candidate", bound=BaseModel)
Check = Callable[[WhatIfRequest], object]  # raises RequestValidationError naming the candidate's field at fault
# reads, as the caller, what the candidate needs of other services (the request with its `context`)
Prepare = Callable[[WhatIfRequest, Identity], Awaitable[WhatIfRequest]]
MAX_DAYS = 366
JobId = Annotated[str, Path(max_length=100, description="The job's id, as `POST` answered it.")]


class WhatIfBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str | None = Field(None, description="trigger, routing or sla: what the candidate is.")
    days: int = Field(ge=1, le=MAX_DAYS, description="The window: the last `days` days up to now.")
    candidate: dict[str, Any] = Field(description="The draft rules, in the shape of the kind's own API.")


def job_router(
    path: str, jobs: WhatIfJobs, replay: Replay, check: Check, tag: str, prepare: Prepare | None = None
) -> APIRouter:
    api = APIRouter(prefix=path, tags=[tag], dependencies=[requires(Role.ADMIN)])

    @api.post("", status_code=202, response_model=WhatIfJob, responses=openapi.problems(422))
    async def start(body: WhatIfBody, who: CurrentIdentity, response: Response) -> WhatIfJob:
        """Replay the last `days` days of the tenant's events through the candidate and the current rules, as
        a job: answered at once (202, `Location`); read the job for its progress and report."""
        if body.kind is not None and body.kind != jobs.kind:
            raise CommandRefusedError(f"this service replays {jobs.kind}, not {body.kind}", field="kind")
        request = WhatIfRequest(who.tenant, body.days, body.candidate)
        if prepare is not None:
            request = await prepare(request, who)
        await asyncio.to_thread(check, request)
        job = await asyncio.to_thread(jobs.submit, request, replay)
        response.headers["Location"] = f"{path}/{job.job_id}"
        return job

    @api.get("/{job_id}", response_model=WhatIfJob)
    async def read(job_id: JobId, who: CurrentIdentity) -> WhatIfJob:
        """A job: `queued`, `running` (progress: events replayed of the window's), `done` (with its report),
        `failed` or `interrupted` (with why)."""
        job = await asyncio.to_thread(jobs.job, who.tenant, job_id)
        if job is None:
            raise UnknownThingError(f"no what-if job {job_id} for this tenant", field="job_id")
        return job

    return api


def mount_jobs(
    app: FastAPI,
    recorder: TrackingRecorder,
    kind: str,
    owner: str,
    path: str,
    replay: Replay,
    check: Check,
    tag: str,
    prepare: Prepare | None = None,
) -> WhatIfJobs:
    """A service's what-if jobs (their rows in `recorder`'s store) served at `path` on `app`; the unfinished
    jobs of an earlier process of the same `owner` (host:port) marked interrupted. `prepare` reads what a
    candidate needs of other services, as the caller, before it is checked."""
    jobs = WhatIfJobs(recorder, kind=kind, owner=owner)
    jobs.start()
    app.include_router(job_router(path, jobs, replay, check, tag, prepare))
    return jobs


def candidate_check(model: type[Candidate]) -> Callable[[WhatIfRequest], Candidate]:
    """A `Check` that reads the candidate as `model`: a wrong one answers 422 naming `candidate.<field>`."""

    def check(request: WhatIfRequest) -> Candidate:
        try:
            return model.model_validate(request.candidate)
        except ValidationError as error:
            raise RequestValidationError(
                [{**each, "loc": ("body", "candidate", *each["loc"])} for each in error.errors()]
            ) from None

    return check
