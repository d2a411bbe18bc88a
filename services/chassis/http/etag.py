"""Optimistic concurrency over HTTP: the ETag is the aggregate version, If-Match names the one read."""

from __future__ import annotations

import re

from services.chassis.http.problems import DomainProblem

_TAG = re.compile(r'^\s*(?:W/)?"(\d+)"\s*$')


class BadPreconditionError(DomainProblem):
    status = 400
    title = "Bad precondition"


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match header names; None when absent or `*` (any version)."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _TAG.match(if_match)
    if match is None:
        raise BadPreconditionError(f'If-Match must be an ETag such as "7", got {if_match!r}', field="If-Match")
    return int(match.group(1))
