"""Real peers of the channels, run by the tests: an SMTP server that catches the desk's mail
(aiosmtpd), a stand-in for Telegram's Bot API that checks every request it gets, and a webhook
receiver that verifies every delivery with the `standardwebhooks` library."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook

from services.intake.channels import mail_threads
from tests.harness import Desk, free_port

DOMAIN = "desk.test"
BOT_TOKEN = "4711:test-token"


@dataclass
class Sink:
    """An SMTP server that refuses its first `fail_first` messages with a 451, then records each."""

    port: int = field(default_factory=free_port)
    fail_first: int = 0
    refused: int = 0
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refused < self.fail_first:
            self.refused += 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 Queued"

    def of(self, ticket_id: str) -> list[EmailMessage]:
        return [m for m in list(self.messages) if mail_threads.tickets_in(m["Message-ID"], DOMAIN) == [UUID(ticket_id)]]


@dataclass
class BotApi:
    """The Bot API's `sendMessage` (and `answerCallbackQuery`, a button's press answered), checking the bot's
    token in the path and the request's fields."""

    port: int = field(default_factory=free_port)
    sent: list[dict[str, Any]] = field(default_factory=list)
    answered: list[dict[str, Any]] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def start(self) -> ThreadingHTTPServer:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["content-length"])))
                if self.path == f"/bot{BOT_TOKEN}/answerCallbackQuery" and "callback_query_id" in request:
                    api.answered.append(request)
                    self.answer(200, {"ok": True, "result": True})
                    return
                if self.path != f"/bot{BOT_TOKEN}/sendMessage" or "chat_id" not in request or "text" not in request:
                    api.wrong.append(f"{self.path} {request}")
                    self.answer(404, {"ok": False, "description": "Not Found"})
                    return
                api.sent.append(request)
                self.answer(200, {"ok": True, "result": {"message_id": 1000 + len(api.sent)}})

            def answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


class _Server(ThreadingHTTPServer):
    """A listen backlog for bursts. socketserver's is 5: under the fault bench's load (the machine at a load of
    10, the accepting thread waiting for the interpreter) deliveries were reset (ReadError) for some seconds, most
    likely by its overflow, until the desk rightly disabled the subscription."""

    request_queue_size = 128
    block_on_close = False  # closing does not wait for the desk's kept-alive connections to end

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a sender killed mid-connection is no error here
            super().handle_error(request, client_address)


@dataclass
class Receiver:
    """An HTTP endpoint that fails its first `fail_first` requests, then verifies and records."""

    port: int = field(default_factory=free_port)
    secret: str = ""
    fail_first: int = 0
    always_fail: bool = False
    requests: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)  # verified payloads, in arrival order
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps the desk's connection open between deliveries, as a web server does
            timeout = 30.0  # seconds an idle connection is kept

            def do_POST(self) -> None:
                length = int(self.headers["content-length"])
                raw = self.rfile.read(length)
                if len(raw) < length:  # the sender died mid-request (a SIGKILL): nothing to answer
                    self.close_connection = True
                    return
                body = raw.decode()
                receiver.requests += 1
                if receiver.always_fail or receiver.requests <= receiver.fail_first:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                payload = Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                receiver.received.append(payload | {"_webhook_id": self.headers["webhook-id"]})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def unique_ids(self) -> list[str]:
        return list(dict.fromkeys(p["_webhook_id"] for p in self.received))


@pytest.fixture
def sink() -> Iterator[Sink]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def bot_api() -> Iterator[BotApi]:
    api = BotApi()
    server = api.start()
    yield api
    server.shutdown()
    server.server_close()


def answering_through(desk: Desk, sink: Sink, bot_api: BotApi, bots: dict[str, Any]) -> None:
    """The desk answers through the peers: its mail goes to `sink`, its Telegram `bots` talk to
    `bot_api`, and a failed notification is retried within a fifth of a second."""
    desk.env |= {
        "SERVICEDESK_SMTP_HOST": "127.0.0.1", "SERVICEDESK_SMTP_PORT": str(sink.port), "SERVICEDESK_SMTP_TLS": "none",
        "SERVICEDESK_TELEGRAM_API_URL": f"http://127.0.0.1:{bot_api.port}",
        "SERVICEDESK_TELEGRAM_BOTS": json.dumps(bots), "SERVICEDESK_NOTIFICATION_RETRY_BASE_SECONDS": "0.2",
    }  # fmt: skip
