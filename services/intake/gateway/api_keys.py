"""A tenant's API keys, event-sourced: issued with a role (and an agent's groups), revoked for
good. Only a SHA-256 of each key's secret is kept; the key itself is shown once, when issued.

A key reads `sdk_<tenant>_<key id>_<secret>`: the gateway finds the tenant's keys from it
without a lookup table, and compares the secret's hash in constant time. The secret is 32
random bytes, so a plain fast hash is enough (there is nothing to guess by brute force).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.http.auth import Principal, Role, Unauthenticated
from services.chassis.runtime.errors import UnknownThingError
from services.chassis.storage.idempotency import KeyedRequest
from services.chassis.storage.ids import stable_uuid
from services.chassis.storage.keyed_commands import commit_once
from services.chassis.storage.processing import commit, find
from services.intake.tickets.application import Intake

PREFIX = "sdk_"
_KEY = re.compile(r"^sdk_([a-z0-9][a-z0-9-]{0,62})_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
CACHE_SECONDS = 2.0  # how long a replica may go on accepting a key after its revocation


class UnknownApiKeyError(UnknownThingError):
    pass


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeys(Aggregate):
    """One tenant's keys."""

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_uuid("api-keys", tenant)

    @event("Started")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.keys: dict[str, dict[str, Any]] = {}

    def issue(self, name: str, role: Role, groups: list[str], by: str) -> str:
        """A new key; the whole key is returned here and never again."""
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        self._issued(
            key_id=key_id,
            name=name,
            role=role.value,
            groups=sorted(set(groups)),
            digest=_digest(secret),
            by=by,
            at=_now(),
        )
        return f"{PREFIX}{self.tenant}_{key_id}_{secret}"

    @event("Issued")
    def _issued(self, key_id: str, name: str, role: str, groups: list[str], digest: str, by: str, at: str) -> None:
        spec = {"name": name, "role": role, "groups": groups, "digest": digest, "issued_by": by, "issued_at": at,
                "revoked_at": None, "revoked_reason": None}  # fmt: skip
        self.keys = self.keys | {key_id: spec}

    def revoke(self, key_id: str, reason: str, by: str) -> None:
        if key_id not in self.keys:
            raise UnknownApiKeyError(f"no API key {key_id}", "key_id")
        if self.keys[key_id]["revoked_at"] is None:
            self._revoked(key_id=key_id, reason=reason, by=by, at=_now())

    @event("Revoked")
    def _revoked(self, key_id: str, reason: str, by: str, at: str) -> None:
        spec = self.keys[key_id] | {"revoked_at": at, "revoked_reason": reason, "revoked_by": by}
        self.keys = self.keys | {key_id: spec}

    def verify(self, key_id: str, secret: str) -> Principal | None:
        spec = self.keys.get(key_id)
        if spec is None or spec["revoked_at"] is not None:
            return None
        if not hmac.compare_digest(spec["digest"], _digest(secret)):
            return None
        return Principal(
            tenant=self.tenant,
            subject=f"api-key:{key_id}",
            roles=frozenset({Role(spec["role"])}),
            groups=frozenset(spec["groups"]),
            api_key=key_id,
        )

    def listing(self) -> list[dict[str, Any]]:
        return [{"id": key_id} | {k: v for k, v in spec.items() if k != "digest"} for key_id, spec in self.keys.items()]


class ApiKeyStore:
    """Issue, revoke, list and check keys on intake's store; checks read a briefly cached copy."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self._cache: dict[str, tuple[float, ApiKeys | None]] = {}
        self._lock = threading.Lock()

    def keys(self, tenant: str) -> ApiKeys | None:
        return find(self.intake, ApiKeys.create_id(tenant), ApiKeys)

    def change(self, tenant: str, command: Any) -> Any:
        result: list[Any] = []

        def decide() -> list[Any]:
            keys = self.keys(tenant) or ApiKeys(tenant)
            result[:] = [command(keys)]
            return [keys]

        commit(self.intake, decide)
        self._forget(tenant)
        return result[0]

    def issue(
        self, tenant: str, name: str, role: Role, groups: list[str], by: str, request: KeyedRequest | None = None
    ) -> tuple[str, str | None]:
        """A new key: its id, and the whole key; a retry of a keyed request answers the key it issued, without
        the key itself (only its hash is kept): never a second live key."""
        issued: list[str] = []

        def decide() -> tuple[list[Any], str]:
            keys = self.keys(tenant) or ApiKeys(tenant)
            issued[:] = [keys.issue(name, role, groups, by)]
            return [keys], issued[0].split("_")[2]

        key_id, made = commit_once(self.intake, tenant, request and self.intake.as_stored(tenant, request), decide)
        self._forget(tenant)
        return key_id, issued[0] if made else None

    def _forget(self, tenant: str) -> None:
        with self._lock:
            self._cache.pop(tenant, None)

    def authenticate(self, key: str) -> Principal:
        """The principal an API key proves; Unauthenticated otherwise (unknown, malformed or revoked)."""
        match = _KEY.match(key)
        if match is None:
            raise Unauthenticated("not an API key of this desk", rule="api_key")
        tenant, key_id, secret = match.groups()
        principal = (keys := self._cached(tenant)) and keys.verify(key_id, secret)
        if not principal:
            raise Unauthenticated("unknown or revoked API key", rule="api_key")
        return principal

    def _cached(self, tenant: str) -> ApiKeys | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(tenant)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        keys = self.keys(tenant)
        with self._lock:
            self._cache[tenant] = (now, keys)
        return keys
