"""No NUL character (U+0000) in any text the API takes: PostgreSQL's text and jsonb cannot hold
one, so a value carrying it would be accepted, stored as an event, and then refused by every
projection that writes it.

One dependency of every service's app (services/chassis/runtime/runtime.py) checks what the matched
route declares: its path and query values and its JSON or form body, whatever models the route
uses, so no model can forget it. A NUL is a 422 naming the field, as pydantic's own errors are.
Headers need no check: the HTTP server refuses a NUL in a header. Channels that read a body of
their own (a Telegram update) declare none and drop NULs where their message lands instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.requests import HTTPConnection, Request

NUL = "\x00"
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
Loc = tuple[str | int, ...]


Declared = tuple[frozenset[str], frozenset[str], bool]
_DECLARED: dict[int, Declared] = {}  # by the route's id: routes compare by value, they do not hash


def _names(dependant: Dependant, kind: str) -> frozenset[str]:
    """The names of the parameters of one kind of a dependant and its dependencies (the fields of a
    parameter model, such as `Annotated[Filters, Query()]`, each)."""
    names: set[str] = set()
    for field in getattr(dependant, kind):
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names |= {info.alias or name for name, info in model.model_fields.items()}
        else:
            names.add(field.alias)
    for dependency in dependant.dependencies:
        names |= _names(dependency, kind)
    return frozenset(names)


def _declared(route: APIRoute) -> Declared:
    """The route's path and query parameter names, and whether it takes a body."""
    if (known := _DECLARED.get(id(route))) is None:
        path, query = _names(route.dependant, "path_params"), _names(route.dependant, "query_params")
        known = _DECLARED[id(route)] = (path, query, route.body_field is not None)
    return known


def nuls(value: Any, loc: Loc = ()) -> Iterator[Loc]:
    """Where in a parsed JSON value a string (or an object's key) holds a NUL."""
    if isinstance(value, str):
        if NUL in value:
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from ((*loc, key),) if NUL in key else nuls(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nuls(item, (*loc, index))


async def _in_body(request: Request) -> list[Loc]:
    if request.headers.get("content-type", "").startswith(_FORMS):
        form = await request.form()  # parsed already for the route: this is its cached copy
        return [(key,) for key, value in form.multi_items() if not isinstance(value, UploadFile) and NUL in value]
    body = await request.body()  # read already for the route: cached
    if b"\\u0000" not in body:  # a raw NUL byte is no JSON: the route refuses that itself
        return []
    try:
        return list(nuls(json.loads(body)))
    except ValueError:
        return []


async def refuse_nul(connection: HTTPConnection) -> None:
    """A 422 for every path, query or body value of the matched route that holds a NUL."""
    route = connection.scope.get("route")
    if not isinstance(route, APIRoute):
        return  # a websocket: its messages are the channel's to check
    path, query, has_body = _declared(route)
    found: list[Loc] = [("path", name) for name in path if NUL in str(connection.path_params.get(name, ""))]
    found += [("query", name) for name in query if any(NUL in v for v in connection.query_params.getlist(name))]
    if has_body and isinstance(connection, Request):
        found += [("body", *loc) for loc in await _in_body(connection)]
    if found:
        message = "must not contain a NUL character (U+0000)"
        raise RequestValidationError([{"loc": loc, "msg": message, "type": "string_nul"} for loc in found])
