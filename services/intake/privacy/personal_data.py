"""Personal data sealed per person, so that erasing a person is destroying one key (crypto-shredding).

Every personal field intake stores (a name, an e-mail address, a phone number, a message a
person wrote) is stored as a *sealed* string: AES-256-GCM under a key of that person's own.
The event store, its snapshots and the read models hold only the sealed text; the keys live
in a table of their own (`intake_personal_keys`), which is the one thing in intake that is
deleted, never appended to. Erasing a person destroys their key and leaves a tombstone: the
history still replays, hash chains still verify (they cover the sealed text), and every field
that person's key sealed reads as `ERASED` from then on.

Keys are stored wrapped (AES-GCM) under a key derived from the desk's secret
(`SERVICEDESK_PERSONAL_DATA_SECRET`), so a copy of the table, an old row image or a WAL
segment holding a destroyed key is useless without that secret.

A sealed value reads `pd1:<person>:<nonce and ciphertext>`, both parts base64url; the tenant
and the person are bound into it as associated data, so a value moved to another person or
tenant does not open.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.persistence import TrackingRecorder

from services.chassis.storage.views import SqlView

PREFIX = "pd1:"
ERASED = "[erased]"
CACHE_SECONDS = 2.0  # how long a replica may go on using a key after another destroyed it
_NONCE = 12

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS intake_personal_keys (
        tenant TEXT NOT NULL, person TEXT NOT NULL, wrapped TEXT, created_at TEXT NOT NULL, erased_at TEXT,
        PRIMARY KEY (tenant, person))"""
]


class PersonErasedError(Exception):
    """The person was erased: nothing new is sealed for them (a new contact is a new person)."""

    def __init__(self, person: str) -> None:
        super().__init__(f"the person {person} was erased: their data can no longer be recorded")
        self.person = person


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"servicedesk/{purpose}".encode()).derive(secret)


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _parsed(value: str) -> tuple[str, bytes] | None:
    """The person and the nonce with ciphertext of a well-formed sealed value; None for anything else
    (plain text that merely starts like one, too)."""
    if not is_sealed(value):
        return None
    person_part, colon, body = value[len(PREFIX) :].partition(":")
    try:
        person, raw = _unb64(person_part).decode(), _unb64(body)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (person, raw) if colon and len(raw) > _NONCE else None


def sealed_for(value: str) -> str | None:
    """The person whose key sealed `value`; None for a plain value."""
    parsed = _parsed(value)
    return parsed[0] if parsed is not None else None


@dataclass(frozen=True)
class StoredKey:
    wrapped: str | None  # None once erased
    erased_at: str | None


class KeyTable(Protocol):
    """Where the wrapped keys are kept: a SQL table in production, a dict in fast unit tests."""

    def get(self, tenant: str, person: str) -> StoredKey | None: ...
    def get_many(self, tenant: str, persons: Collection[str]) -> dict[str, StoredKey]: ...  # those that have one
    def add(self, tenant: str, person: str, wrapped: str) -> StoredKey: ...  # the stored one wins a race
    def destroy(self, tenant: str, person: str, at: str) -> bool: ...  # False when there was no live key


class MemoryKeyTable:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], StoredKey] = {}
        self._lock = threading.Lock()

    def get(self, tenant: str, person: str) -> StoredKey | None:
        return self.rows.get((tenant, person))

    def get_many(self, tenant: str, persons: Collection[str]) -> dict[str, StoredKey]:
        return {person: found for person in persons if (found := self.rows.get((tenant, person))) is not None}

    def add(self, tenant: str, person: str, wrapped: str) -> StoredKey:
        with self._lock:
            return self.rows.setdefault((tenant, person), StoredKey(wrapped, None))

    def destroy(self, tenant: str, person: str, at: str) -> bool:
        with self._lock:
            live = (found := self.rows.get((tenant, person))) is not None and found.wrapped is not None
            self.rows[(tenant, person)] = StoredKey(None, at)
            return live


class SqlKeyTable:
    """The keys in intake's own database (SQLite or PostgreSQL), beside its event store."""

    def __init__(self, recorder: TrackingRecorder) -> None:
        self.view = SqlView(recorder, SCHEMA, name="personal-keys")

    def get(self, tenant: str, person: str) -> StoredKey | None:
        rows = self.view.query(
            "SELECT wrapped, erased_at FROM intake_personal_keys WHERE tenant = :tenant AND person = :person",
            {"tenant": tenant, "person": person},
        )
        return StoredKey(rows[0]["wrapped"], rows[0]["erased_at"]) if rows else None

    def get_many(self, tenant: str, persons: Collection[str]) -> dict[str, StoredKey]:
        """The keys of `persons` who have one, a query for every 500 of them."""
        found: dict[str, StoredKey] = {}
        wanted = sorted(set(persons))
        for start in range(0, len(wanted), 500):
            names = {f"p{n}": person for n, person in enumerate(wanted[start : start + 500])}
            rows = self.view.query(
                "SELECT person, wrapped, erased_at FROM intake_personal_keys WHERE tenant = :tenant"
                f" AND person IN ({', '.join(':' + name for name in names)})",
                {"tenant": tenant} | names,
            )
            found |= {row["person"]: StoredKey(row["wrapped"], row["erased_at"]) for row in rows}
        return found

    def add(self, tenant: str, person: str, wrapped: str) -> StoredKey:
        with self.view.transaction() as sql:
            sql.execute(
                "INSERT INTO intake_personal_keys (tenant, person, wrapped, created_at)"
                " VALUES (:tenant, :person, :wrapped, :at) ON CONFLICT (tenant, person) DO NOTHING",
                {"tenant": tenant, "person": person, "wrapped": wrapped, "at": datetime.now(UTC).isoformat()},
            )
        stored = self.get(tenant, person)
        assert stored is not None  # just inserted, or inserted by the writer that won
        return stored

    def destroy(self, tenant: str, person: str, at: str) -> bool:
        """Overwrite the key with a tombstone (on SQLite with secure_delete, so the page is zeroed)."""
        if not self.view.postgres:
            self.view.query("PRAGMA secure_delete = ON")
        live = (found := self.get(tenant, person)) is not None and found.wrapped is not None
        with self.view.transaction() as sql:
            sql.execute(
                "INSERT INTO intake_personal_keys (tenant, person, wrapped, created_at, erased_at)"
                " VALUES (:tenant, :person, NULL, :at, :at)"
                " ON CONFLICT (tenant, person) DO UPDATE SET wrapped = NULL, erased_at = :at",
                {"tenant": tenant, "person": person, "at": at},
            )
        return live


class PersonalData:
    """Seals and opens personal fields with each person's key; destroys a key to erase a person."""

    def __init__(self, table: KeyTable, secret: bytes) -> None:
        self.table = table
        self._kek = AESGCM(_derive(secret, "personal-keys"))
        self._index_key = _derive(secret, "blind-index")
        self._cache: dict[tuple[str, str], tuple[float, bytes | None]] = {}
        self._lock = threading.Lock()

    # -- sealing -------------------------------------------------------------

    def seal(self, tenant: str, person: str, text: str) -> str:
        """`text` sealed with `person`'s key (made on first use). A value sealed for `person` already is
        returned as it is; anything else, even text that looks sealed, is sealed."""
        if sealed_for(text) == person:
            return text
        key = self._key(tenant, person, create=True)
        if key is None:
            raise PersonErasedError(person)
        nonce = os.urandom(_NONCE)
        ciphertext = AESGCM(key).encrypt(nonce, text.encode(), _aad(tenant, person))
        return f"{PREFIX}{_b64(person.encode())}:{_b64(nonce + ciphertext)}"

    def unseal(self, tenant: str, value: str) -> str:
        """The plain text of a sealed value (`ERASED` once its person was erased); a plain value as it is."""
        parsed = _parsed(value)
        if parsed is None:
            return value
        person, raw = parsed
        key = self._key(tenant, person, create=False)
        if key is None:
            return ERASED
        try:
            return AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], _aad(tenant, person)).decode()
        except InvalidTag:
            return ERASED

    def fetch_keys(self, tenant: str, values: Iterable[str]) -> None:
        """Read the keys that opening `values` needs and the cache lacks in one go, rather than one query a
        person as `unseal` would: a page of tickets names as many requesters as it has rows."""
        now = time.monotonic()
        with self._lock:
            wanted = {
                person
                for value in values
                if (person := sealed_for(value)) is not None
                and ((hit := self._cache.get((tenant, person))) is None or now - hit[0] >= CACHE_SECONDS)
            }
        if not wanted:
            return
        stored = self.table.get_many(tenant, wanted)
        keys = {p: (now, self._unwrap(tenant, p, k.wrapped) if k.wrapped else None) for p, k in stored.items()}
        with self._lock:
            self._cache |= {(tenant, person): key for person, key in keys.items()}

    def unseal_all(self, tenant: str, values: Mapping[str, str]) -> dict[str, str]:
        return {name: self.unseal(tenant, value) for name, value in values.items()}

    def opened(self, tenant: str, value: Any) -> Any:
        """`value` with every sealed string in it (in dicts and lists too) opened; the rest as it is."""
        if isinstance(value, str):
            return self.unseal(tenant, value)
        if isinstance(value, dict):
            return {key: self.opened(tenant, item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.opened(tenant, item) for item in value]
        return value

    def blind_index(self, tenant: str, term: str) -> str:
        """A keyed hash of `term`: finds a person by an address without storing the address."""
        mac = hmac.HMAC(self._index_key, hashes.SHA256())
        mac.update(f"{tenant}\x00{term}".encode())
        return _b64(mac.finalize())

    # -- erasing -------------------------------------------------------------

    def erased(self, tenant: str, person: str) -> bool:
        stored = self.table.get(tenant, person)
        return stored is not None and stored.wrapped is None

    def destroy_key(self, tenant: str, person: str) -> bool:
        """Destroy the person's key for good; False when they had none (or it was destroyed before)."""
        destroyed = self.table.destroy(tenant, person, datetime.now(UTC).isoformat())
        with self._lock:
            self._cache[(tenant, person)] = (time.monotonic(), None)
        return destroyed

    # -- keys ----------------------------------------------------------------

    def _key(self, tenant: str, person: str, create: bool) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get((tenant, person))
        if hit is not None and now - hit[0] < CACHE_SECONDS and (hit[1] is not None or not create):
            return hit[1]
        stored = self.table.get(tenant, person)
        if stored is None and create:
            wrapped = self._wrap(tenant, person, AESGCM.generate_key(bit_length=256))
            stored = self.table.add(tenant, person, wrapped)
        key = self._unwrap(tenant, person, stored.wrapped) if stored is not None and stored.wrapped else None
        if stored is not None:  # never cache "no key yet": another replica may be making it
            with self._lock:
                self._cache[(tenant, person)] = (now, key)
        return key

    def _wrap(self, tenant: str, person: str, key: bytes) -> str:
        nonce = os.urandom(_NONCE)
        return _b64(nonce + self._kek.encrypt(nonce, key, _aad(tenant, person)))

    def _unwrap(self, tenant: str, person: str, wrapped: str) -> bytes:
        raw = _unb64(wrapped)
        return self._kek.decrypt(raw[:_NONCE], raw[_NONCE:], _aad(tenant, person))


def _aad(tenant: str, person: str) -> bytes:
    return f"{tenant}\x00{person}".encode()
