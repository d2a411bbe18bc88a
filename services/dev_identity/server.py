"""The provider's process: its app on 127.0.0.1, its issuer the URL it answers at."""

from __future__ import annotations

import uvicorn

from services.chassis.runtime import logs
from services.chassis.runtime.settings import Settings
from services.dev_identity.app import create_app
from services.dev_identity.clients import registered
from services.dev_identity.keys import provider_url


def serve(settings: Settings, port: int | None = None) -> int:
    port = port or settings.dev_identity_port
    logs.configure("dev_identity")
    app = create_app(provider_url(port), settings.data_dir, registered(settings.dev_identity_clients))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None, access_log=False)
    uvicorn.Server(config).run()
    return 0
