"""Every answer of the gateway tells the caller where it stands against its rate limit: a 500 of
an unhandled error too, though Starlette makes it outside every middleware of the app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.chassis.http.auth import TokenVerifier
from services.chassis.http.identity import Authenticator, CurrentIdentity, authenticate
from services.chassis.http.rate_limit import RateLimiter
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.runtime.settings import Settings
from tests.tokens import AUDIENCE, INTERNAL_SECRET, ISSUER, jwks, token


def gateway() -> TestClient:
    app = Runtime("intake", Metrics("intake")).app()  # as every service makes its app: headers, problems
    limiter = RateLimiter(per_minute=60)
    authenticate(app, Settings(), limiter=limiter)
    app.state.authenticator = Authenticator(TokenVerifier(ISSUER, AUDIENCE, jwks(), INTERNAL_SECRET), limiter=limiter)

    @app.get("/v1/fine")
    async def fine(who: CurrentIdentity) -> dict[str, str]:
        return {"tenant": who.tenant}

    @app.get("/v1/broken")
    async def broken(who: CurrentIdentity) -> None:
        raise RuntimeError("a bug")

    return TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token('acme', 'ann')}"})


def test_an_unhandled_error_still_tells_the_caller_its_rate_limit() -> None:
    client = gateway()
    assert client.get("/v1/fine").headers["X-RateLimit-Remaining"] == "59"
    failed = client.get("/v1/broken")
    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.headers["X-RateLimit-Remaining"] == "58"
    assert failed.headers["RateLimit-Policy"] == '"per-caller";q=60;w=60'
