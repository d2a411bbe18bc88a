"""Traces across Kafka: the relay sends each event in a producer span, child of the span that
stored it; a consumer handles it in a span child of that, and hands its context to the reaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from schemas.envelope import Envelope
from services.chassis.runtime import tracing
from tests.unit.test_envelope import an_envelope

STORED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"  # the request span that stored the event
TOPIC = "intake.tickets"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tracing on, for this test only (the process's global provider stays unset)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "tracer", provider.get_tracer("test"))
    monkeypatch.setattr(tracing, "enabled", lambda: True)
    yield exporter
    provider.shutdown()


def relayed(envelope: Envelope) -> Envelope:
    with tracing.Publishing() as publishing:
        return publishing.start(TOPIC, envelope)


def consumed(envelope: Envelope) -> Envelope:
    """The envelope a reaction is handed once `envelope` went through Kafka."""
    _, value, headers = envelope.to_kafka()
    with tracing.Consuming("routing") as consuming:
        span = consuming.start(TOPIC, headers, 2, 17)
        return tracing.handled(TOPIC, Envelope.from_kafka(value, headers), span)


def context_of(span: ReadableSpan) -> str:
    """The `00-<trace id>-<span id>-` a traceparent naming `span` starts with."""
    assert span.context is not None
    return f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-"


def only(spans: InMemorySpanExporter) -> ReadableSpan:
    (span,) = spans.get_finished_spans()
    spans.clear()
    return span


def test_a_relayed_event_is_sent_in_a_producer_span_child_of_the_span_that_stored_it(
    spans: InMemorySpanExporter,
) -> None:
    stored = an_envelope(traceparent=STORED)

    sent = relayed(stored)

    span = only(spans)
    assert (span.name, span.kind) == (f"send {TOPIC}", SpanKind.PRODUCER)
    assert span.parent is not None
    assert span.parent.span_id == 0xB7AD6B7169203331
    assert span.context is not None
    assert span.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert dict(sent.to_kafka()[2])["traceparent"].decode().startswith(context_of(span))
    assert span.attributes is not None
    assert span.attributes["messaging.system"] == "kafka"
    assert span.attributes["messaging.destination.name"] == TOPIC
    assert span.attributes["messaging.kafka.message.key"] == stored.subject
    assert (span.attributes["servicedesk.tenant"], span.attributes["servicedesk.ticket_id"]) == ("acme", stored.subject)


def test_a_consumed_event_is_handled_in_a_consumer_span_child_of_its_producer_span(
    spans: InMemorySpanExporter,
) -> None:
    sent = relayed(an_envelope(traceparent=STORED))
    producer = only(spans)

    handed = consumed(sent)

    consumer = only(spans)
    assert (consumer.name, consumer.kind) == (f"process {TOPIC}", SpanKind.CONSUMER)
    assert consumer.parent is not None
    assert producer.context is not None
    assert consumer.parent.span_id == producer.context.span_id
    assert consumer.attributes is not None
    assert consumer.attributes["messaging.consumer.group.name"] == "routing"
    assert handed.traceparent is not None
    assert handed.traceparent.startswith(context_of(consumer)), "what the reaction records continues from here"


def test_an_event_stored_outside_any_trace_starts_one_when_relayed(spans: InMemorySpanExporter) -> None:
    sent = relayed(an_envelope(traceparent=None))

    span = only(spans)
    assert span.parent is None
    assert sent.traceparent is not None
    assert sent.traceparent.startswith(context_of(span))


def test_producer_spans_of_a_batch_kafka_refused_are_errors(spans: InMemorySpanExporter) -> None:
    def send_batch() -> None:
        with tracing.Publishing() as publishing:
            publishing.start(TOPIC, an_envelope())
            publishing.start(TOPIC, an_envelope())
            raise OSError("broker away")

    with pytest.raises(OSError, match="broker away"):
        send_batch()

    failed = spans.get_finished_spans()
    assert [span.status.status_code for span in failed] == [StatusCode.ERROR, StatusCode.ERROR]


def test_with_tracing_off_the_traceparent_stored_is_the_one_sent_and_handed_on() -> None:
    assert not tracing.enabled()
    stored = an_envelope(traceparent=STORED)

    assert relayed(stored).traceparent == STORED
    assert consumed(stored).traceparent == STORED
    assert consumed(an_envelope(traceparent=None)).traceparent is None
