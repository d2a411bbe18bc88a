"""What the API documents it answers: every error an operation can give, as RFC 9457 problem+json.

The errors are derived from facts about each route, so routes need no per-status annotations:
a route that authenticates can answer 401; one that checks a role (`requires`) 403; one with
path parameters 404; one with parameters or a body 422; one with a body also 400 (it does not
parse) and 404 (it names what the tenant does not have); one that takes `If-Match` 400 and 412;
every route 503 (the store does not answer). What only a handler knows (409, 410, ...) it
declares with `answers(...)` on a dependency or endpoint, or `responses=problems(...)` on the
route or router. Every 4xx/5xx answer then names the one `Problem` schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from services.chassis.http.problems import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
DESCRIPTIONS = {
    400: "A body that does not parse, or a malformed header (e.g. an If-Match that is not an ETag).",
    401: "No credentials, or credentials that prove nothing (the reason is in `rule`).",
    403: "Authenticated, but the caller's role may not do this.",
    404: "Nothing of this id for this tenant, or nothing the caller may see.",
    409: "Not possible in the ticket's current state.",
    410: "Gone: the person was erased, and what was theirs with them.",
    412: "If-Match names a version the ticket has moved on from.",
    413: "The body is larger than the limit.",
    415: "A body of this media type is not accepted.",
    422: "A field or rule of the request is not met (each named in `errors`, `field` or `rule`).",
    429: "The caller's rate limit is spent; Retry-After says when to come back.",
    500: "The service failed; the error is logged.",
    503: "The store, or the service behind the gateway, does not answer; retry shortly.",
}

Call = TypeVar("Call", bound=Callable[..., Any])
Responses = dict[int | str, dict[str, Any]]  # a route's or router's `responses=`


class FieldError(BaseModel):
    field: str = Field(description="The field at fault, dotted (`custom_fields.x`).")
    message: str
    type: str | None = None


class Problem(BaseModel):
    """An error, as RFC 9457 problem details; extension members name what failed."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="A URI reference naming the kind of problem (`/problems/<title>`).")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str | None = None
    rule: str | None = Field(None, description="The rule that failed (`role`, `exp`, `rate_limit`, ...).")
    field: str | None = Field(None, description="The input at fault.")
    errors: list[FieldError] | None = Field(None, description="Every invalid field, for 422.")


def problems(*statuses: int) -> Responses:
    """`responses=` of a route or router for error answers only its handler knows of."""
    return {status: {"description": DESCRIPTIONS.get(status, "See the problem's detail.")} for status in statuses}


def answers(*statuses: int) -> Callable[[Call], Call]:
    """Mark a dependency (or endpoint) with the problem statuses it raises: every route using it documents them."""

    def mark(call: Call) -> Call:
        call.problem_statuses = frozenset(statuses)  # type: ignore[attr-defined]
        return call

    return mark


# One event of a `text/event-stream` answer, its fields as the stream spells them (the schema each
# event is read against: a fuzzer found events documented as one string).
SERVER_SENT_EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "event": {"type": "string"}, "data": {"type": "string"},
        "retry": {"type": "integer"},
    },
}  # fmt: skip


def media(status: int, media_type: str, description: str, schema: dict[str, Any] | None = None) -> Responses:
    """`responses=` entry for an answer of another media type than JSON (CSV, an event stream, a file)."""
    return {status: {"description": description, "content": {media_type: {"schema": schema or {"type": "string"}}}}}


def install(app: FastAPI) -> None:
    """Serve `app`'s document with its error answers documented (built once, on first request)."""
    built: dict[str, Any] = {}

    def document() -> dict[str, Any]:
        if not built:
            built.update(documented(app))
        return built

    app.openapi = document  # type: ignore[method-assign]


def documented(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for route in iter_route_contexts(app.routes):  # routes as included, with their routers' dependencies
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            for method in route.methods or ():
                operation = spec.get("paths", {}).get(route.path_format, {}).get(method.lower())
                if operation is not None:
                    for status in route_statuses(route.dependant):
                        operation["responses"].setdefault(str(status), {})
    return problem_answers(spec)


def route_statuses(dependant: Dependant) -> set[int]:
    """The error statuses the facts of a route (its dependency tree) imply: see the module's docstring."""
    statuses = {503}
    for each in _tree(dependant):
        statuses |= getattr(each.call, "problem_statuses", frozenset())
    if dependant.path_params:
        statuses.add(404)
    params = [*_tree_params(dependant)]
    if params or dependant.body_params:
        statuses.add(422)
    if dependant.body_params:  # a body that does not parse; a body naming something the tenant does not have
        statuses |= {400, 404}
    if any(param.alias.lower() == "if-match" for param in params):
        statuses |= {400, 412}
    return statuses


def problem_answers(spec: dict[str, Any], more: Callable[[dict[str, Any]], set[int]] | None = None) -> dict[str, Any]:
    """Every 4xx/5xx answer of `spec` as problem+json with the Problem schema; `more` adds statuses per operation."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.update({"Problem": Problem.model_json_schema(ref_template="#/components/schemas/{model}")})
    schemas["FieldError"] = schemas["Problem"].pop("$defs")["FieldError"]
    for operation in operations(spec):
        responses = operation.setdefault("responses", {})
        for status in more(operation) if more is not None else ():
            responses.setdefault(str(status), {})
        for status, answer in responses.items():
            if status[0] in "45":
                answer.setdefault("description", DESCRIPTIONS.get(int(status), "See the problem's detail."))
                answer["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return spec


def operations(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in spec.get("paths", {}).values():
        for method in METHODS:
            if method in item:
                yield item[method]


def _tree(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _tree(sub)


def _tree_params(dependant: Dependant) -> Iterator[Any]:
    for each in _tree(dependant):
        yield from (*each.query_params, *each.header_params, *each.cookie_params)
