"""Errors as RFC 9457 problem+json: every 4xx names the field or the rule that failed."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.chassis.http.answer_headers import ANSWER_HEADERS
from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS, CommandRefusedError, UnknownThingError
from services.chassis.storage.idempotency import REUSED_RULE, IdempotencyKeyReusedError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


def answer_headers(request: Request) -> dict[str, str]:
    """Headers every answer to this request carries, whatever it is (the gateway's rate-limit
    headers: services/chassis/http/identity.py). A middleware (`AnswerHeaders`) adds them to every answer
    but one: the 500 of an unhandled error is made by Starlette's outermost middleware, outside every
    other one, whose handler (`unexpected` below) therefore adds them itself."""
    return dict(getattr(request.state, ANSWER_HEADERS, {}))


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    slug = title.lower().replace(" ", "-")
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    body |= extra
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


class DomainProblem(Exception):
    """Base of errors a service maps to one problem status (subclasses set `status` and `title`)."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def headers(self) -> dict[str, str]:
        """Response headers the problem needs (e.g. Retry-After)."""
        return {}


def install_problem_handlers(app: FastAPI) -> None:
    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [
            {
                "field": ".".join(str(p) for p in tuple(e["loc"])[1 if tuple(e["loc"])[:1] == ("body",) else 0 :]),
                "message": e["msg"],
                "type": e["type"],
            }
            for e in error.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        return problem(422, "Invalid request", f"invalid field(s): {fields}", errors=errors)

    async def domain_problem(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainProblem)
        reply = problem(error.status, error.title, error.detail, **error.extra)
        reply.headers.update(error.headers())
        return reply

    async def refused(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, CommandRefusedError)
        if isinstance(error, UnknownThingError):
            return problem(404, "Not found", str(error), field=error.field)
        return problem(422, "Refused", str(error), field=error.field)

    async def key_reused(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, IdempotencyKeyReusedError)
        return problem(422, "Idempotency key reused", str(error), rule=REUSED_RULE, field="Idempotency-Key")

    async def store_unavailable(request: Request, error: Exception) -> JSONResponse:
        reply = problem(503, "Store unavailable", "the event store does not answer; retry shortly")
        reply.headers["Retry-After"] = "1"
        return reply

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        title = HTTPStatus(error.status_code).phrase
        return problem(error.status_code, title, str(error.detail), path=request.url.path)

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
        reply = problem(500, "Internal error", "the service failed; the error is logged", path=request.url.path)
        reply.headers.update(answer_headers(request))
        return reply

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
    for transient in TRANSIENT_STORE_ERRORS:
        app.add_exception_handler(transient, store_unavailable)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(DomainProblem, domain_problem)
    app.add_exception_handler(CommandRefusedError, refused)
    app.add_exception_handler(IdempotencyKeyReusedError, key_reused)
