"""The command line every service's main.py shares: which role to run, on which port.

Parsing it is also where a process sets itself up, once: its log lines and its traces.
"""

from __future__ import annotations

import argparse

from services.chassis import logs, tracing


def parse_args(service: str, roles: list[str], extra: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m services.{service}.main")
    parser.add_argument("role", choices=roles + (extra or []), nargs="?", default="all")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (health, metrics, API)")
    parser.add_argument(
        "--feed", action="append", default=[], metavar="SOURCE=URL", help="an event feed to rebuild from (repeatable)"
    )
    parser.add_argument("--kafka", action="store_true", help="rebuild from Kafka's topics, from their beginning")
    args = parser.parse_args()
    logs.configure(service)
    tracing.configure(service)
    return args
