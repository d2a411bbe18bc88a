"""Carrying out a keyed request once inside a `commit` decision (processing.py), in any service's store.

The decision first looks for the request's `IdempotentRequest` (`carried_out`): when there is one the
request was carried out before (the same one: answer it again; another under the same key:
`IdempotencyKeyReusedError`); when there is none, the decision runs its command and adds the record
(`record_of`) to what it saves, so the record and the effect are one transaction. Two twins racing
both try to create the record: the loser's transaction fails on its version, and `commit` decides
again on fresh state, where it finds the winner's record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from services.chassis.storage.idempotency import IdempotentRequest, KeyedRequest
from services.chassis.storage.processing import commit, find

MakesSubject = Callable[[], tuple[Iterable[Any], str]]  # reads fresh state, runs commands: (changed, what it made)


def carried_out(app: Application[Any], request: KeyedRequest | None, tenant: str) -> IdempotentRequest | None:
    """The record of `request` when it was carried out before (checked against it); None otherwise."""
    if request is None:
        return None
    found = find(app, request.id, IdempotentRequest)
    if found is not None:
        found.check(tenant, request.fingerprint, request.key)
    return found


def record_of(request: KeyedRequest | None, tenant: str, subject: str) -> list[IdempotentRequest]:
    """What to save with the effect of `request`: its record, naming what its answer shows (none unkeyed)."""
    if request is None:
        return []
    return [IdempotentRequest(request.id, tenant, request.fingerprint, subject)]


def commit_once(
    app: Application[Any],
    tenant: str,
    request: KeyedRequest | None,
    decide: MakesSubject,
    tracking: Tracking | None = None,
) -> tuple[str, bool]:
    """`commit` the decision, with the record of its keyed request; a retry of the request decides nothing.
    Answers what the request made (`decide`'s subject, or the record's) and whether it was made now."""
    outcome: list[tuple[str, bool]] = []

    def attempt() -> list[Any]:
        if (done := carried_out(app, request, tenant)) is not None:
            outcome[:] = [(done.subject, False)]
            return []
        changed, subject = decide()
        outcome[:] = [(subject, True)]
        return [*changed, *record_of(request, tenant, subject)]

    commit(app, attempt, tracking)
    return outcome[0]
