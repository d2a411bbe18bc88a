"""The command line every service's main.py shares: which role to run, on which port, and the
settings it runs with.

Parsing it is also where a process sets itself up, once: its log lines, its traces, and the name its
PostgreSQL connections go by.
"""

from __future__ import annotations

import argparse
import os

from services.chassis.runtime import logs, tracing
from services.chassis.runtime.desk_secrets import DevelopmentSecretError
from services.chassis.runtime.settings import Settings


def parse_args(service: str, roles: list[str], extra: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m services.{service}.main")
    parser.add_argument("role", choices=roles + (extra or []), nargs="?", default="all")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (health, metrics, API)")
    parser.add_argument(
        "--feed", action="append", default=[], metavar="SOURCE=URL", help="an event feed to rebuild from (repeatable)"
    )
    parser.add_argument("--kafka", action="store_true", help="rebuild from Kafka's topics, from their beginning")
    args = parser.parse_args()
    # libpq's default application_name: each connection of the process (its stores' pools included) shows in
    # pg_stat_activity as `intake mailer`, not as one of a hundred unnamed ones. A name set here stays.
    os.environ.setdefault("PGAPPNAME", f"{service} {args.role}")
    logs.configure(service)
    tracing.configure(service)
    return args


def service_settings(service: str) -> Settings:
    """The process's settings from its environment; on a development secret the process stops
    here, with one line that names the setting (not a traceback, not only a JSON log line)."""
    settings = Settings()
    try:
        settings.refuse_development_secrets()
    except DevelopmentSecretError as error:
        raise SystemExit(f"{service} refuses to start: {error}") from None
    return settings
