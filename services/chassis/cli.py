"""The command line every service's main.py shares: which role to run, on which port."""

from __future__ import annotations

import argparse
import logging


def parse_args(service: str, roles: list[str], extra: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m services.{service}.main")
    parser.add_argument("role", choices=roles + (extra or []), nargs="?", default="all")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (health, metrics, API)")
    parser.add_argument(
        "--feed", action="append", default=[], metavar="SOURCE=URL", help="an event feed to rebuild from (repeatable)"
    )
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("aiokafka", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return args
