"""The gateway keeps an idle connection open longer than its clients do.

A client or a proxy keeps an idle connection for some seconds (httpx 5, browsers and load balancers 60 or more) and
then sends on it again. A gateway that closed it first at the same instant left that request unanswered: the fault
bench saw two commands cut off so, in runs that never struck the gateway (services/chassis/runtime/runtime.py
KEEP_ALIVE_SECONDS)."""

from __future__ import annotations

import socket
import time

import httpx

from tests.harness import Desk

IDLE_SECONDS = 6.0  # longer than uvicorn's own keep-alive (5 s) and httpx's (5 s)


def test_a_connection_left_idle_longer_than_a_client_keeps_one_is_still_answered(desk: Desk) -> None:
    gateway = httpx.URL(desk.service("intake", "api").start().url)
    request = f"GET /health/live HTTP/1.1\r\nHost: {gateway.host}:{gateway.port}\r\n\r\n".encode()
    with socket.create_connection((gateway.host, gateway.port or 80), timeout=10) as connection:
        connection.sendall(request)
        assert answer(connection).startswith(b"HTTP/1.1 200")
        time.sleep(IDLE_SECONDS)
        connection.sendall(request)
        assert answer(connection).startswith(b"HTTP/1.1 200")


def answer(connection: socket.socket) -> bytes:
    """One whole response (its head, and its body to its Content-Length), however the segments fell; b"" when the
    server had closed the connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        if not (chunk := connection.recv(65536)):
            return received
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:])
    length = int({name.strip().lower(): value for name, value in fields.items()}[b"content-length"])
    while len(body) < length and (chunk := connection.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body
