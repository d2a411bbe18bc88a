"""Log lines: one JSON object each, or the human text of a terminal.

A JSON line has time, level, logger, message and service, the trace and span id (of the current
span, else of the `traceparent` being handled), and the tenant and ticket id of the request or
message being handled (null when not known); an exception adds `exception`.

`SERVICEDESK_LOG_FORMAT` is `json` or `text`; unset, text when stderr is a terminal (`make run`),
JSON otherwise (containers, the tests' log files).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, Any

from services.chassis.runtime import tracing

_TENANT: ContextVar[str | None] = ContextVar("log_tenant", default=None)
_TICKET: ContextVar[str | None] = ContextVar("log_ticket_id", default=None)
_TRACEPARENT: ContextVar[str | None] = ContextVar("log_traceparent", default=None)


def bind(tenant: str | None = None, ticket_id: str | None = None, traceparent: str | None = None) -> None:
    """What the lines logged from here on in this task (one HTTP request) are about."""
    _TENANT.set(tenant)
    _TICKET.set(ticket_id)
    _TRACEPARENT.set(traceparent)


@contextmanager
def about(tenant: str | None, ticket_id: str | None, traceparent: str | None = None) -> Iterator[None]:
    """What the lines logged inside this block (one Kafka message) are about."""
    tenant_set, ticket_set, traceparent_set = _TENANT.set(tenant), _TICKET.set(ticket_id), _TRACEPARENT.set(traceparent)
    try:
        yield
    finally:
        _TENANT.reset(tenant_set)
        _TICKET.reset(ticket_set)
        _TRACEPARENT.reset(traceparent_set)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        trace_id, span_id = tracing.ids(_TRACEPARENT.get())
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
            "trace_id": trace_id,
            "span_id": span_id,
            "tenant": _TENANT.get(),
            "ticket_id": _TICKET.get(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def handler(service: str, stream: IO[str]) -> logging.Handler:
    """A handler writing to `stream` in the format `SERVICEDESK_LOG_FORMAT` chooses (default: by terminal)."""
    chosen = os.environ.get("SERVICEDESK_LOG_FORMAT") or ("text" if stream.isatty() else "json")
    if chosen not in ("json", "text"):
        raise ValueError(f"SERVICEDESK_LOG_FORMAT: {chosen!r} is not json or text")
    handler = logging.StreamHandler(stream)
    text = logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(JsonFormatter(service) if chosen == "json" else text)
    return handler


def configure(service: str) -> None:
    """Every logger's lines to stderr, one handler for the whole process (uvicorn's too)."""
    logging.basicConfig(level=logging.INFO, handlers=[handler(service, sys.stderr)], force=True)
    for noisy in ("aiokafka", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sys.excepthook = _log_uncaught  # a crash's traceback is a line like the others


def _log_uncaught(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    logging.getLogger("uncaught").critical("%s: %s", kind.__name__, error, exc_info=(kind, error, tb))
