"""Our Kafka records are CloudEvents as the official Python SDK reads and writes them.

The SDK (`cloudevents` 2.x) has its Kafka binding in `cloudevents.core.bindings.kafka`;
`cloudevents.v1.kafka` keeps the 1.x API (`cloudevents.kafka` there) that older consumers call.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings import kafka as binding
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from cloudevents.v1 import kafka as v1_binding

from schemas.envelope import Envelope

# Our extension attributes and what Envelope field each carries.
EXTENSIONS = {
    "dataversion": "version",
    "tenant": "tenant",
    "actor": "actor",
    "sequence": "sequence",
    "position": "position",
    "correlationid": "correlation_id",
    "causationid": "causation_id",
}

INSTANTS = [
    datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=3))),
]


def an_envelope(occurred_at: datetime = INSTANTS[0]) -> Envelope:
    ticket_id = str(uuid.uuid4())
    return Envelope(
        id=uuid.uuid4(), type="ticket.opened", version=2, source="intake", subject=ticket_id, tenant="acme",
        actor="agent-7", occurred_at=occurred_at, sequence=1, position=42, correlation_id="corr-1",
        causation_id="cause-1",
        data={"ticket_id": ticket_id, "number": "SD-2026-000001", "requester_id": "customer-42", "channel": "email",
              "category": "network", "type": "incident", "priority": "P2", "tags": ["vpn", "ютф-8"],
              "organisation": None, "keywords": ["vpn", "drops"]},
    )  # fmt: skip


def read_by_sdk(envelope: Envelope) -> BaseCloudEvent:
    key, value, headers = envelope.to_kafka()
    return binding.from_binary(binding.KafkaMessage(headers=dict(headers), key=key, value=value), JSONFormat())


@pytest.mark.parametrize("occurred_at", INSTANTS, ids=["utc", "utc+3 with microseconds"])
def test_the_sdk_reads_our_record_as_a_cloudevent_with_our_attributes_and_data(occurred_at: datetime) -> None:
    envelope = an_envelope(occurred_at)
    event = read_by_sdk(envelope)

    assert isinstance(event, CloudEvent)
    assert event.get_specversion() == "1.0"
    assert event.get_id() == str(envelope.id)
    assert event.get_source() == "intake"
    assert event.get_type() == "ticket.opened"
    assert event.get_subject() == envelope.subject
    assert event.get_time() == occurred_at
    assert event.get_datacontenttype() == "application/json"
    for extension, field in EXTENSIONS.items():
        assert event.get_extension(extension) == str(getattr(envelope, field)), extension
    assert event.get_data() == envelope.data


def test_the_sdk_sees_no_attribute_we_did_not_mean_and_our_key_as_its_partition_key() -> None:
    envelope = an_envelope()
    event = read_by_sdk(envelope)
    standard = {"specversion", "id", "source", "type", "subject", "time", "datacontenttype"}
    assert set(event.get_attributes()) == standard | set(EXTENSIONS) | {"partitionkey"}
    assert event.get_extension("partitionkey") == envelope.subject


def test_a_binary_kafka_message_made_by_the_sdk_parses_as_our_envelope() -> None:
    expected = an_envelope()
    attributes: dict[str, Any] = {
        "specversion": "1.0", "id": str(expected.id), "source": "intake", "type": "ticket.opened",
        "subject": expected.subject, "time": expected.occurred_at, "datacontenttype": "application/json",
        "dataversion": 2, "tenant": "acme", "actor": "agent-7", "sequence": 1, "position": 42,
        "correlationid": "corr-1", "causationid": "cause-1",
    }  # fmt: skip
    event = CloudEvent(attributes, dict(expected.data))
    message = binding.to_binary(event, JSONFormat(), key_mapper=lambda e: e.get_subject())

    assert message.key == expected.subject
    assert dict(message.headers)["ce_time"] == b"2026-11-23T09:00:00Z"  # the SDK's spelling of UTC, not ours
    assert Envelope.from_kafka(message.value, list(message.headers.items())) == expected


def test_our_record_passed_through_the_sdk_and_back_is_the_same_envelope() -> None:
    envelope = an_envelope(INSTANTS[1])
    message = binding.to_binary(read_by_sdk(envelope), JSONFormat())
    assert message.key == envelope.subject
    assert Envelope.from_kafka(message.value, list(message.headers.items())) == envelope


def test_a_consumer_on_the_sdk_1_x_api_reads_our_record_too() -> None:
    envelope = an_envelope()
    key, value, headers = envelope.to_kafka()
    event = v1_binding.from_binary(v1_binding.KafkaMessage(headers=dict(headers), key=key, value=value))
    assert (event["id"], event["type"], event["subject"], event["tenant"]) == (
        str(envelope.id), "ticket.opened", envelope.subject, "acme"
    )  # fmt: skip
    assert event["time"] == envelope.occurred_at.isoformat()
    assert event["partitionkey"] == key
    assert event.get_data() == envelope.data
