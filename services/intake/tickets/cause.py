"""Who acts on a ticket and why: the `Cause` the application sets around a command (`acting(cause)`),
so every event records tenant, actor and correlation without each command repeating them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from services.chassis.storage.idempotency import KeyedRequest
from services.intake.audit import chain


@dataclass(frozen=True)
class Cause:
    """Who acts, for which tenant, and which request or event this answers."""

    tenant: str
    actor: str
    correlation_id: str
    causation_id: str
    traceparent: str | None = None
    request: KeyedRequest | None = None  # a request with an Idempotency-Key: carried out once (application.py)
    at: datetime | None = None  # imported history: the instant it happened in the other desk (else: now)
    imported_from: str | None = None  # imported history: where it was read (`rt:<url>#<transaction>`)

    def metadata(self) -> dict[str, str]:
        meta = {"correlation_id": self.correlation_id, "causation_id": self.causation_id}
        meta |= {"imported_from": self.imported_from} if self.imported_from else {}
        return meta | ({"traceparent": self.traceparent} if self.traceparent else {})


_CAUSE: ContextVar[Cause] = ContextVar("cause")


@contextmanager
def acting(cause: Cause) -> Iterator[Cause]:
    """Commands inside this block record `cause` on their events."""
    token = _CAUSE.set(cause)
    try:
        yield cause
    finally:
        _CAUSE.reset(token)


def current_cause() -> Cause:
    """The cause of the command running now: a ticket command outside `acting(cause)` is a bug."""
    try:
        return _CAUSE.get()
    except LookupError:
        raise RuntimeError("a ticket command ran outside `acting(cause)`") from None


def event_metadata(cause: Cause, previous_hash: str) -> dict[str, str]:
    """The metadata an event records: its cause, and the hash of the event before it on the ticket."""
    return cause.metadata() | {chain.PREVIOUS: previous_hash}
