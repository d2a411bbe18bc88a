"""Waiting for a started process to answer ready (supervisor, tests, benchmarks)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from services.chassis.http.tls import trusted_roots


class NotReadyError(RuntimeError):
    pass


def wait_ready(url: str, alive: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll `url`/health/ready until 200; fail early when `alive()` turns false. One client for all the
    polls: `httpx.get` makes a client, and a TLS context, for each (30 ms of CPU ten times a second)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5.0, verify=trusted_roots()) as client:
        while time.monotonic() < deadline:
            if not alive():
                raise NotReadyError(f"{url}: the process exited before it was ready")
            try:
                # Longer than the readiness checks may take (2 s each, runtime.py): on a busy machine a
                # shorter wait gives up on every answer and never sees the 200.
                if client.get(f"{url}/health/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise NotReadyError(f"{url}: not ready after {timeout}s")
