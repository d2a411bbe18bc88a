"""Wiring of the web service; the only module that chooses dependencies.

    python -m services.web.main [--port N]

Serves the browser's pages at `/` (the gateway forwards every path outside the API to it),
signs people in through `SERVICEDESK_WEB_OIDC_ISSUER`, and calls the gateway
(`SERVICEDESK_INTAKE_URL`, else intake's local port) with the signed-in person's token.
"""

from __future__ import annotations

import asyncio
import sys

from services.chassis.runtime.cli import parse_args, service_settings
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.storage.store import tracking_recorder
from services.web.app import mount_pages
from services.web.gateway_client import Gateway
from services.web.sessions import SessionStore
from services.web.signin import SignIn
from services.web.tables import STORE

NAME = "web"


def main() -> int:
    args = parse_args(NAME, ["all"])
    settings = service_settings(NAME)
    if not settings.web_oidc_issuer:
        raise SystemExit("web refuses to start: SERVICEDESK_WEB_OIDC_ISSUER names no identity provider to sign in at")
    sessions = SessionStore(tracking_recorder(settings, STORE))
    public_url = settings.web_public_url or settings.url_of(NAME)
    sign_in = SignIn(
        sessions,
        settings.web_oidc_issuer,
        settings.web_client_id,
        settings.web_client_secret,
        public_url,
        settings.web_tenants,
    )
    gateway = Gateway(settings.url_of("intake"))
    metrics = Metrics(NAME)
    runtime = Runtime(NAME, metrics)

    async def sessions_ready() -> bool:
        await asyncio.to_thread(sessions.view.query, "SELECT 1 AS one")
        return True

    runtime.checks["sessions"] = sessions_ready
    runtime.on_stop.append(gateway.close)
    app = runtime.app(title="Service desk web", version="1.0.0")
    mount_pages(app, sign_in, gateway, settings.web_session_secret, settings.web_secure_cookies)
    port = args.port if args.port is not None else settings.web_port
    return runtime.serve(app, settings.http_host, port)


if __name__ == "__main__":
    sys.exit(main())
