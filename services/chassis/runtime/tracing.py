"""Traces: one request followed from the gateway through the store, the relay, Kafka and every
consumer that reacts, as one trace.

Configured by the standard variables: `OTEL_TRACES_EXPORTER` (`otlp`: OTLP/HTTP protobuf to
`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`; `console`; unset or `none`: off), `OTEL_SERVICE_NAME`
(default: the service's name), `OTEL_BSP_*` (batching), `OTEL_TRACES_SAMPLER`.

The W3C `traceparent` carries the context everywhere: in a stored event's metadata (the span
that recorded it), on its envelope and Kafka record (the relay's producer span), into the
consumer's span and on to the events the consumer records. Off, no provider is installed, the
relay and the consumers start no span, and a `traceparent` passes through as it came.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import AbstractContextManager
from types import TracebackType

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from schemas.envelope import Envelope

_W3C = TraceContextTextMapPropagator()
_UNTRACED_URLS = r"/health/(live|ready)$,/metrics$,/openapi\.json$"
tracer = trace.get_tracer("servicedesk")


def configure(service: str) -> bool:
    """Install a tracer provider if `OTEL_TRACES_EXPORTER` asks for one; whether tracing is on."""
    exporters = [name.strip().lower() for name in os.environ.get("OTEL_TRACES_EXPORTER", "").split(",")]
    exporters = [name for name in exporters if name not in ("", "none")]
    if not exporters or os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or service}))
    for name in exporters:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    trace.set_tracer_provider(provider)  # flushed and shut down at exit
    return True


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise ValueError(f"OTEL_TRACES_EXPORTER: {name!r} is not otlp, console or none")
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    if protocol not in (None, "", "http/protobuf"):
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL: only http/protobuf is built in, not {protocol!r}")
    # Imported only when asked for: a process that does not trace loads no exporter.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # the endpoint, headers and timeout from OTEL_EXPORTER_OTLP_*


def enabled() -> bool:
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def instrument(app: FastAPI) -> None:
    """A server span per HTTP request (health and metrics aside), continuing an incoming `traceparent`."""
    if not enabled():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    from_env = os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS") or os.environ.get("OTEL_PYTHON_EXCLUDED_URLS")
    FastAPIInstrumentor.instrument_app(app, excluded_urls=from_env or _UNTRACED_URLS, exclude_spans=["receive", "send"])


def traceparent(span: Span | None = None) -> str | None:
    """The W3C `traceparent` of `span` (default: the current span), or None without a valid one."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier, context=trace.set_span_in_context(span) if span is not None else None)
    return carrier.get("traceparent")


def inject(headers: dict[str, str]) -> dict[str, str]:
    """`headers` with the current span's `traceparent` (unchanged without a current span)."""
    _W3C.inject(headers)
    return headers


def context_of(traceparent: str | None) -> Context:
    """A context whose parent is `traceparent`; an empty one (a new trace) for None or garbage."""
    return _W3C.extract({"traceparent": traceparent} if traceparent else {})


def ids(traceparent: str | None = None) -> tuple[str | None, str | None]:
    """Trace and span id (hex) of the current span, else of `traceparent`, else (None, None)."""
    found = trace.get_current_span().get_span_context()
    if not found.is_valid and traceparent:
        found = trace.get_current_span(context_of(traceparent)).get_span_context()
    if not found.is_valid:
        return None, None
    return trace.format_trace_id(found.trace_id), trace.format_span_id(found.span_id)


def annotate(**attributes: str | None) -> None:
    """Set `servicedesk.<name>` attributes that are known on the current span."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({f"servicedesk.{name}": value for name, value in attributes.items() if value is not None})


def _about(topic: str, operation: str, envelope: Envelope | None = None) -> dict[str, AttributeValue]:
    """OpenTelemetry messaging attributes of one Kafka record (and our own of its event)."""
    attributes: dict[str, AttributeValue] = {
        "messaging.system": "kafka", "messaging.destination.name": topic,
        "messaging.operation.type": operation, "messaging.operation.name": operation,
    }  # fmt: skip
    if envelope is not None:
        attributes |= {
            "messaging.kafka.message.key": envelope.subject,
            "messaging.message.id": str(envelope.id),
            "servicedesk.tenant": envelope.tenant,
            "servicedesk.ticket_id": envelope.subject,
            "servicedesk.event_type": envelope.type,
            "servicedesk.source_position": envelope.position,
        }
    return attributes


class Publishing:
    """The PRODUCER spans of one relayed batch, each the child of the context its event was recorded
    in; all end when the batch is acknowledged (or fails)."""

    def __init__(self) -> None:
        self.spans: list[Span] = []

    def start(self, topic: str, envelope: Envelope) -> Envelope:
        """Start the span of sending `envelope`; the envelope to send, carrying that span's context."""
        if not enabled():
            return envelope
        span = tracer.start_span(
            f"send {topic}",
            context=context_of(envelope.traceparent),
            kind=SpanKind.PRODUCER,
            attributes=_about(topic, "send", envelope),
        )
        self.spans.append(span)
        sent = traceparent(span) or envelope.traceparent
        return envelope if sent == envelope.traceparent else envelope.model_copy(update={"traceparent": sent})

    def __enter__(self) -> Publishing:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        _end(self.spans, error)


class Consuming:
    """The CONSUMER spans of one fetched batch of records, each the child of its record's `traceparent`
    header (not current: the batch is handled at once); all end when the batch is handled."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.spans: list[Span] = []

    def start(self, topic: str, headers: Iterable[tuple[str, bytes]], partition: int, offset: int) -> Span:
        if not enabled():
            return trace.INVALID_SPAN
        sent = next((raw.decode(errors="replace") for name, raw in headers if name == "traceparent"), None)
        attributes = _about(topic, "process") | {
            "messaging.consumer.group.name": self.group,
            "messaging.destination.partition.id": str(partition),
            "messaging.kafka.offset": offset,
        }
        span = tracer.start_span(
            f"process {topic}", context=context_of(sent), kind=SpanKind.CONSUMER, attributes=attributes
        )
        self.spans.append(span)
        return span

    def __enter__(self) -> Consuming:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        _end(self.spans, error)


def _end(spans: list[Span], error: BaseException | None) -> None:
    """End every span of a batch, each marked failed with `error` when the batch failed."""
    for span in spans:
        if error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, repr(error)))
        span.end()


def current(span: Span) -> AbstractContextManager[Span]:
    """`span` made the current span for a while (not ended after it)."""
    return trace.use_span(span, end_on_exit=False)


def handled(topic: str, envelope: Envelope, span: Span) -> Envelope:
    """`envelope` as the consumer's reaction sees it: its `traceparent` is the consumer span's, so the
    events the reaction records continue the trace from there."""
    if not span.get_span_context().is_valid:
        return envelope
    span.set_attributes(_about(topic, "process", envelope))
    current = traceparent(span) or envelope.traceparent
    return envelope if current == envelope.traceparent else envelope.model_copy(update={"traceparent": current})
