"""Idempotency keys (IETF draft `Idempotency-Key` header): a retried request is carried out once.

A key belongs to its caller (tenant and principal), never to the tenant alone: another caller
who happens to send the same key makes a request of their own. The first time a keyed request
is carried out, an `IdempotentRequest` is saved in the very transaction that records its effect
(so a retry after a crash still finds it), holding a fingerprint of the request; a retry with
the same fingerprint gets the same answer again, one with another fingerprint is refused
(`IdempotencyKeyReusedError`). Pure: no I/O here (the header is read in `request_keys.py`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid

REUSED_RULE = "idempotency-key-reused"


class IdempotencyKeyReusedError(Exception):
    """The caller sent a key they used before with a different request."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the Idempotency-Key {key!r} was used before for a different request: use a new key")
        self.key = key


@dataclass(frozen=True)
class KeyedRequest:
    """A request that came with an `Idempotency-Key`: whose key it is, and what the request said."""

    id: UUID  # of its IdempotentRequest: the same for the same caller and key, different for anyone else's
    key: str
    fingerprint: str  # SHA-256 of the request's method, path, query and body

    @classmethod
    def of(cls, tenant: str, caller: str, key: str, fingerprint: str) -> KeyedRequest:
        name = json.dumps([tenant, caller, key])  # unambiguous whatever the parts contain
        return cls(stable_uuid("idempotency-keys", name), key, fingerprint)

    def derived(self, kind: str) -> UUID:
        """A stable id for what the request makes (a ticket, a comment): a retry names the same one."""
        return stable_uuid("idempotency-keys", self.id, kind)

    def covering(self, digest: str) -> KeyedRequest:
        """The same request, its fingerprint also covering `digest` (e.g. the sha256 of a streamed upload)."""
        combined = hashlib.sha256(f"{self.fingerprint}\n{digest}".encode()).hexdigest()
        return KeyedRequest(self.id, self.key, combined)


class IdempotentRequest(Aggregate):
    """A keyed request carried out: its fingerprint and the thing its answer shows (e.g. a ticket). The key
    itself is not kept (a client may put anything in it): the record's id is derived from it."""

    @event("Recorded")
    def __init__(self, id: UUID, tenant: str, fingerprint: str, subject: str) -> None:
        self.tenant = tenant
        self.fingerprint = fingerprint
        self.subject = subject

    def check(self, tenant: str, fingerprint: str, key: str) -> None:
        """Refuse a request that is not the one recorded under this key."""
        if (tenant, fingerprint) != (self.tenant, self.fingerprint):
            raise IdempotencyKeyReusedError(key)
