"""Bearer tokens and API keys: what proves who is asking, and what does not."""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from pathlib import Path

import jwt
import pytest

from services.chassis.http.auth import LEEWAY_SECONDS, Principal, Role, TokenVerifier, Unauthenticated
from services.chassis.http.identity import Authenticator
from services.chassis.http.rate_limit import RateLimited, RateLimiter
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env
from services.intake.gateway.api_keys import ApiKeys, ApiKeyStore
from tests.privacy import memory_intake
from tests.tokens import AUDIENCE, INTERNAL_SECRET, ISSUER, jwks, token


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(ISSUER, AUDIENCE, jwks(), INTERNAL_SECRET)


def test_a_providers_token_names_the_tenant_the_person_and_their_roles(verifier: TokenVerifier) -> None:
    who = verifier.verify(token("acme", "ann", roles=("agent",), groups=("billing",)))
    assert (who.tenant, who.subject, who.roles, who.groups) == (
        "acme",
        "ann",
        frozenset({Role.AGENT}),
        frozenset({"billing"}),
    )


@pytest.mark.parametrize(
    ("forged", "rule"),
    [
        ({"expires_in": -120}, "exp"),
        ({"audience": "another-app"}, "aud"),
        ({"issuer": "https://evil.example/"}, "iss"),
        ({"roles": ("root",)}, "roles"),
        ({"roles": ()}, "roles"),
        ({"tenant": "Not A Tenant"}, "tenant"),
    ],
)
def test_a_token_that_proves_nothing_is_refused_with_the_reason(
    verifier: TokenVerifier, forged: dict[str, object], rule: str
) -> None:
    tenant = str(forged.pop("tenant", "acme"))
    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(token(tenant, **forged))  # type: ignore[arg-type]
    assert refused.value.extra["rule"] == rule


def test_a_token_signed_with_another_key_or_none_is_refused(verifier: TokenVerifier) -> None:
    unsigned = jwt.encode({"sub": "x", "tenant": "acme", "roles": ["admin"]}, key=None, algorithm="none")  # type: ignore[arg-type]
    forged_internal = jwt.encode(
        {"sub": "x", "tenant": "acme", "roles": ["admin"]},
        "a-guessed-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )
    for bad in (unsigned, forged_internal, "not-a-token"):
        with pytest.raises(Unauthenticated):
            verifier.verify(bad)


def test_a_token_verified_once_is_taken_again_until_it_expires_then_refused(
    verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = token("acme", "ann", expires_in=60)
    first = verifier.verify(sent)
    with monkeypatch.context() as patched:
        patched.setattr(jwt, "decode", lambda *_, **__: pytest.fail("verified again"))
        assert verifier.verify(sent) is first
    later = time.time() + 60 + LEEWAY_SECONDS + 1  # the token's clock and the verifier's both

    class Later(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Later:
            return cls.fromtimestamp(later, tz)

    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)
    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(sent)
    assert refused.value.extra["rule"] == "exp"


def test_a_refused_token_is_refused_every_time(verifier: TokenVerifier) -> None:
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(token("acme", audience="another-app"))


def test_the_gateways_internal_token_carries_the_principal_to_the_service_behind(verifier: TokenVerifier) -> None:
    who = Principal("acme", "api-key:ab12", frozenset({Role.AGENT}), frozenset({"network"}), api_key="ab12")
    assert verifier.verify(verifier.mint_internal(who)) == who


def test_an_api_key_works_until_revoked_and_only_its_hash_is_kept(tmp_path: Path) -> None:
    store = ApiKeyStore(memory_intake(store_env(Settings(data_dir=tmp_path), "intake")))
    key = store.change("acme", lambda keys: keys.issue("crm sync", Role.AGENT, ["billing"], by="admin-1"))
    who = store.authenticate(key)
    assert (who.tenant, who.roles, who.groups) == ("acme", frozenset({Role.AGENT}), frozenset({"billing"}))
    secret = key.rsplit("_", 1)[1]
    assert all(secret not in str(spec) for spec in store.keys("acme").keys.values())  # type: ignore[union-attr]

    key_id = who.api_key
    store.change("acme", lambda keys: keys.revoke(key_id, "leaked in a ticket", by="admin-1"))
    with pytest.raises(Unauthenticated):
        store.authenticate(key)
    for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), key.replace("sdk_acme", "sdk_globex"), "sdk_x"):
        with pytest.raises(Unauthenticated):
            store.authenticate(wrong)


def test_a_caller_over_the_limit_is_told_when_to_come_back() -> None:
    limiter = RateLimiter(per_minute=60, burst=2)
    limiter.take("key-1", now=0.0)
    limiter.take("key-1", now=0.0)
    with pytest.raises(RateLimited) as limited:
        limiter.take("key-1", now=0.1)
    assert limited.value.headers()["Retry-After"] == "1"
    assert limited.value.headers()["X-RateLimit-Remaining"] == "0"
    limiter.take("key-2", now=0.1)  # another caller has its own allowance
    limiter.take("key-1", now=1.2)  # a second later one request is back


def test_api_keys_listing_never_shows_a_secret_or_hash() -> None:
    keys = ApiKeys("acme")
    keys.issue("ci", Role.ADMIN, [], by="admin-1")
    assert all("digest" not in entry for entry in keys.listing())


class _Keys:
    """API keys in a dict: `sdk_good` is the key of a CRM system of acme."""

    def authenticate(self, key: str) -> Principal:
        if key != "sdk_good":
            raise Unauthenticated("no such API key", rule="api_key")
        return Principal("acme", "api-key:k1", frozenset({Role.AGENT}), api_key="k1")


@pytest.fixture
def gateway(verifier: TokenVerifier) -> Authenticator:
    return Authenticator(verifier, _Keys())


async def test_a_valid_token_is_believed_whatever_x_api_key_says(gateway: Authenticator) -> None:
    who = await gateway.principal(f"Bearer {token('acme', 'ann')}", "a key the client filled in anyway")
    assert who.subject == "ann"


async def test_without_authorization_the_api_key_decides(gateway: Authenticator) -> None:
    assert (await gateway.principal(None, "sdk_good")).api_key == "k1"
    assert (await gateway.principal("Bearer sdk_good", None)).api_key == "k1"
    with pytest.raises(Unauthenticated):
        await gateway.principal(None, "sdk_bad")


@pytest.mark.parametrize("authorization", ["Bearer not-a-token", "Basic YW5uOnNlY3JldA==", "Bearer ", ""])
async def test_authorization_that_proves_nothing_is_refused_even_beside_a_good_api_key(
    gateway: Authenticator, authorization: str
) -> None:
    with pytest.raises(Unauthenticated):
        await gateway.principal(authorization, "sdk_good")
