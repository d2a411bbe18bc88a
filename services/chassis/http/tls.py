"""One TLS context for every HTTP client of a process.

httpx builds a context of its own for each client it is not handed one, and building one reads the whole
bundle of trusted roots: about 30 ms of CPU. A process that made eight clients at its start spent a quarter
of a second on it, at every start and every restart after a crash.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def trusted_roots() -> ssl.SSLContext:
    """The process's context, built at its first use: httpx's defaults (its bundle, SSL_CERT_FILE and
    SSL_CERT_DIR honoured). Shared read-only; no caller changes it."""
    return httpx.create_ssl_context()
