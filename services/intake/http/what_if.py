"""The gateway's what-if API (`/v1/what-if`): an admin's replay of the tenant's last days through draft rules,
run as a job by the service that owns the rules (`kind`: trigger by rules, routing by routing, sla by sla), to
which the gateway forwards. A job's id starts with its kind, so reading it goes to the same service."""

from __future__ import annotations

from typing import Annotated, Literal

import httpx
from fastapi import APIRouter, Path, Request, Response

from services.chassis.http import openapi
from services.chassis.http.auth import Role
from services.chassis.http.gateway import forward_to
from services.chassis.http.identity import CurrentIdentity, requires
from services.chassis.http.problems import problem
from services.chassis.whatif.http import WhatIfBody
from services.chassis.whatif.jobs import WhatIfJob

PREFIX = "/v1/what-if"
Kind = Literal["trigger", "routing", "sla"]
# Each kind's owner and its job endpoint (the service's own path, forwarded to as is).
OWNERS: dict[str, tuple[str, str]] = {
    "trigger": ("rules", "/v1/triggers/what-if"),
    "routing": ("routing", "/v1/routing/what-if"),
    "sla": ("sla", "/v1/sla/what-if"),
}
JobId = Annotated[str, Path(max_length=100, description="The job's id, as `POST /v1/what-if` answered it.")]


class WhatIfStart(WhatIfBody):
    kind: Kind  # required here: it chooses the service


def router(upstreams: dict[str, str], client: httpx.AsyncClient) -> APIRouter:
    """`upstreams`: each owning service's base URL, by service name."""
    api = APIRouter(prefix=PREFIX, tags=["what-if"], dependencies=[requires(Role.ADMIN)])

    @api.post("", status_code=202, response_model=WhatIfJob, responses=openapi.problems(422))
    async def start(body: WhatIfStart, request: Request, who: CurrentIdentity) -> Response:
        """Replay the tenant's last `days` days through the `candidate` and through the current rules, as a job:
        202 with `Location`; read the job for its progress and report. The candidate is, by `kind`: a draft
        trigger as `POST /v1/triggers` takes it (with `trigger_id`, a revision of one); `{"rules": [...],
        "strategies": {...}}`, a routing rule set in the order tried; `{"policies": [...], "calendars": {...}}`,
        SLA policies as `PUT /v1/sla/policies/{policy_id}` takes them, each with its `policy_id`."""
        service, path = OWNERS[body.kind]
        upstream = upstreams[service]
        answer = await forward_to(request, who, f"{upstream}{path}", client, upstream, PREFIX)
        if (location := answer.headers.get("location")) is not None:
            answer.headers["location"] = location.replace(path, PREFIX, 1)
        return answer

    @api.get("/{job_id}", response_model=WhatIfJob)
    async def read(job_id: JobId, request: Request, who: CurrentIdentity) -> Response:
        """A what-if job: its status (queued, running, done, failed, interrupted), its progress (events replayed
        of the window's) and, once done, its report."""
        owner = OWNERS.get(job_id.split("-", 1)[0])
        if owner is None:
            return problem(404, "Not found", f"no what-if job {job_id} for this tenant", field="job_id")
        upstream = upstreams[owner[0]]
        return await forward_to(request, who, f"{upstream}{owner[1]}/{job_id}", client, upstream, PREFIX)

    return api
