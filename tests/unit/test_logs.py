"""Log lines: one JSON object each, saying which tenant, ticket and trace they are about."""

from __future__ import annotations

import io
import json
import logging
import sys
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from services.chassis.http.identity import CurrentIdentity
from services.chassis.runtime import logs
from tests.client import headers
from tests.tokens import authenticated

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def logged(message: str = "ticket %s is stuck", *args: Any, exc_info: Any = None) -> dict[str, Any]:
    record = logging.LogRecord(
        "services.intake.api", logging.WARNING, __file__, 1, message, args or ("SD-1",), exc_info
    )
    line: dict[str, Any] = json.loads(logs.JsonFormatter("intake").format(record))
    return line


def test_a_line_is_one_json_object_with_time_level_logger_message_and_service() -> None:
    line = logged()

    assert line["level"] == "WARNING"
    assert line["logger"] == "services.intake.api"
    assert line["message"] == "ticket SD-1 is stuck"
    assert line["service"] == "intake"
    assert line["time"].endswith("+00:00")


def test_outside_a_request_or_message_tenant_ticket_and_trace_are_null() -> None:
    line = logged()

    assert (line["tenant"], line["ticket_id"], line["trace_id"], line["span_id"]) == (None, None, None, None)


def test_a_line_logged_while_handling_a_message_names_its_tenant_ticket_and_trace() -> None:
    with logs.about("acme", "ticket-1", TRACEPARENT):
        line = logged()
    after = logged()

    assert (line["tenant"], line["ticket_id"]) == ("acme", "ticket-1")
    assert (line["trace_id"], line["span_id"]) == ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    assert after["tenant"] is None, "the context ends with the message"


def test_a_line_logged_while_answering_a_request_names_its_tenant_ticket_and_trace() -> None:
    app, stream = FastAPI(), io.StringIO()
    logger = logging.getLogger("tests.request")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter("intake"))
    logger.addHandler(handler)

    @app.get("/v1/tickets/{ticket_id}")
    def read(ticket_id: str, who: CurrentIdentity) -> None:
        logger.warning("reading")

    try:
        TestClient(authenticated(app)).get(
            "/v1/tickets/ticket-9", headers=headers("acme") | {"traceparent": TRACEPARENT}
        )
    finally:
        logger.removeHandler(handler)

    line = json.loads(stream.getvalue())
    assert (line["tenant"], line["ticket_id"], line["trace_id"]) == ("acme", "ticket-9", TRACEPARENT.split("-")[1])


def test_the_current_span_names_the_trace_rather_than_the_traceparent_received() -> None:
    span = NonRecordingSpan(SpanContext(0x1234, 0x5678, is_remote=False, trace_flags=TraceFlags(1)))
    with logs.about("acme", None, TRACEPARENT), trace.use_span(span):
        line = logged()

    assert (line["trace_id"], line["span_id"]) == (f"{0x1234:032x}", f"{0x5678:016x}")


def test_an_exception_and_its_traceback_stay_on_the_same_line() -> None:
    try:
        raise RuntimeError("store away")
    except RuntimeError:
        line = logged("gave up on %s", "SD-2", exc_info=sys.exc_info())

    assert line["message"] == "gave up on SD-2"
    assert "RuntimeError: store away" in line["exception"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("chosen", "stream", "json_lines"),
    [
        (None, io.StringIO(), True),
        (None, Terminal(), False),
        ("json", Terminal(), True),
        ("text", io.StringIO(), False),
    ],
)
def test_json_unless_a_terminal_reads_the_lines_or_the_format_is_chosen(
    monkeypatch: pytest.MonkeyPatch, chosen: str | None, stream: io.StringIO, json_lines: bool
) -> None:
    if chosen is None:
        monkeypatch.delenv("SERVICEDESK_LOG_FORMAT", raising=False)
    else:
        monkeypatch.setenv("SERVICEDESK_LOG_FORMAT", chosen)

    logs.handler("intake", stream).handle(logging.makeLogRecord({"msg": "up", "levelname": "INFO"}))

    assert stream.getvalue().startswith("{") is json_lines


def test_an_unknown_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICEDESK_LOG_FORMAT", "yaml")
    with pytest.raises(ValueError, match="yaml"):
        logs.handler("intake", io.StringIO())
