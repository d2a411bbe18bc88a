"""Traces end to end, on real Kafka and PostgreSQL: a ticket opened at the gateway is one trace
through intake's store and relay, Kafka, routing's and analytics' consumers, routing's relay and
intake's consumer of the decision and on to the assignment it stores, each span the child of the
one before; and every line the services log is a JSON object."""

from __future__ import annotations

import gzip
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto

from schemas.topics import ROUTING_DECISIONS, TICKETS
from tests.client import eventually, headers, put_ok, read_ticket, ticket_form
from tests.harness import Desk, free_port

TENANT = "acme"
SERVER, CLIENT = SpanProto.SPAN_KIND_SERVER, SpanProto.SPAN_KIND_CLIENT
PRODUCER, CONSUMER = SpanProto.SPAN_KIND_PRODUCER, SpanProto.SPAN_KIND_CONSUMER


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, str]


class Collector:
    """A tiny OTLP/HTTP receiver: keeps every span POSTed to /v1/traces."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                collector.keep(request)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200 if self.path == "/v1/traces" else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def keep(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            resource = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                with self.lock:
                    self.spans.extend(decoded(resource["service.name"], span) for span in scope_spans.spans)

    def trace(self, trace_id: str) -> list[Span]:
        with self.lock:
            return [span for span in self.spans if span.trace_id == trace_id]


def decoded(service: str, span: SpanProto) -> Span:
    attributes = {kv.key: kv.value.string_value or str(kv.value.int_value) for kv in span.attributes}
    return Span(service, span.name, span.kind, span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex(),
                attributes)  # fmt: skip


@pytest.fixture
def collector() -> Iterator[Collector]:
    collector = Collector()
    thread = threading.Thread(target=collector.server.serve_forever, daemon=True)
    thread.start()
    yield collector
    collector.server.shutdown()
    collector.server.server_close()


@pytest.fixture
def gateway(desk: Desk, collector: Collector) -> Iterator[httpx.Client]:
    desk.env |= {
        "OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200", "SERVICEDESK_LOG_FORMAT": "json",
    }  # fmt: skip
    intake = desk.service("intake")
    desk.start_together(desk.service("routing"), desk.service("analytics", "consumer"), intake)
    with httpx.Client(base_url=intake.url, timeout=10.0) as client:
        put_ok(client, TENANT, "/v1/routing/groups/first-line", {"tier": 1, "default": True})
        put_ok(client, TENANT, "/v1/routing/agents/sam", {"groups": ["first-line"], "capacity": 2})
        yield client


def a_traceparent() -> tuple[str, str, str]:
    """A caller's own trace: (traceparent, trace id, span id)."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def one(spans: list[Span], service: str, kind: int, destination: str = "", **attributes: str) -> Span:
    found = [
        span for span in spans
        if (span.service, span.kind) == (service, kind)
        and span.attributes.get("messaging.destination.name", "").endswith(destination)
        and attributes.items() <= span.attributes.items()
    ]  # fmt: skip
    assert found, f"no {service} span of kind {kind} on {destination!r} with {attributes} in {spans}"
    return found[0]


def test_a_ticket_is_one_trace_from_the_gateway_through_kafka_to_every_consumer(
    gateway: httpx.Client, collector: Collector, desk: Desk
) -> None:
    presence, presence_trace, _ = a_traceparent()
    reply = gateway.put("/v1/routing/agents/sam/presence", json={"presence": "online"},
                        headers=headers(TENANT) | {"traceparent": presence})  # fmt: skip
    assert reply.status_code == 200, reply.text
    traceparent, trace_id, caller = a_traceparent()

    reply = gateway.post("/v1/tickets", json=ticket_form(category="general"),
                         headers=headers(TENANT) | {"traceparent": traceparent})  # fmt: skip
    assert reply.status_code == 201, reply.text
    ticket_id = reply.json()["id"]

    eventually(lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: t["agent_id"] == "sam", timeout=20)
    wanted = [("intake", SERVER, ""), ("intake", PRODUCER, TICKETS), ("routing", CONSUMER, TICKETS),
              ("analytics", CONSUMER, TICKETS), ("routing", PRODUCER, ROUTING_DECISIONS),
              ("intake", CONSUMER, ROUTING_DECISIONS)]  # fmt: skip

    decisions = {"messaging.consumer.group.name": desk.settings.kafka_name("intake")}

    def complete(spans: list[Span]) -> bool:  # intake's decision consumer's own span, not its webhooks' alone
        found = all(any((s.service, s.kind) == (w[0], w[1]) and w[2] in s.name for s in spans) for w in wanted)
        return found and any(decisions.items() <= s.attributes.items() for s in spans)

    spans = eventually(lambda: collector.trace(trace_id), complete, timeout=15)
    server = one(spans, "intake", SERVER)
    assert server.name == "POST /v1/tickets"
    assert server.parent_id == caller, "the gateway continues the caller's trace"
    assert server.attributes["servicedesk.tenant"] == TENANT
    opened = one(spans, "intake", PRODUCER, TICKETS)
    assert opened.parent_id == server.span_id, "the event is stored in the request's span"
    assert opened.attributes["messaging.kafka.message.key"] == ticket_id
    for consumer in ("routing", "analytics"):
        assert one(spans, consumer, CONSUMER, TICKETS).parent_id == opened.span_id
    decided = one(spans, "routing", PRODUCER, ROUTING_DECISIONS)
    assert decided.parent_id == one(spans, "routing", CONSUMER, TICKETS).span_id
    applied = one(spans, "intake", CONSUMER, ROUTING_DECISIONS, **decisions)
    assert applied.parent_id == decided.span_id
    assert applied.attributes["servicedesk.ticket_id"] == ticket_id
    assigned = eventually(
        lambda: collector.trace(trace_id), lambda s: any(x.parent_id == applied.span_id for x in s), timeout=10
    )
    assert one(assigned, "intake", PRODUCER, TICKETS, **{"servicedesk.event_type": "ticket.assigned"}).parent_id == (
        applied.span_id
    ), "the assignment intake stores continues from the decision it applied"

    proxied = eventually(lambda: collector.trace(presence_trace), lambda s: any(x.service == "routing" for x in s))
    assert one(proxied, "routing", SERVER).parent_id == one(proxied, "intake", CLIENT).span_id

    for service in desk.services:
        for line in service.log_path.read_text().splitlines():
            if not line.startswith("--- start"):
                assert json.loads(line)["service"] == service.name, line
