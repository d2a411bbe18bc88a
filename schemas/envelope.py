"""The event envelope: every event on the wire, mapped 1:1 to CloudEvents 1.0.

On Kafka the envelope travels in CloudEvents' *binary* content mode: the attributes
are `ce_*` headers, the record value is the JSON of `data` and the record key is the
subject (the ticket id), so one ticket's events share a partition and keep their order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, NotRequired, TypedDict
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import from_json

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

# Envelope field -> CloudEvents attribute. Extension attribute names must be lower-case
# letters and digits only (CloudEvents 1.0 "Attribute Naming Convention").
_ATTRIBUTES: dict[str, str] = {
    "id": "id",
    "type": "type",
    "source": "source",
    "subject": "subject",
    "occurred_at": "time",
    "version": "dataversion",
    "tenant": "tenant",
    "actor": "actor",
    "sequence": "sequence",
    "position": "position",
    "correlation_id": "correlationid",
    "causation_id": "causationid",
}
_INTEGERS = {"version", "sequence", "position"}
_HEADERS = {f"ce_{attribute}": field for field, attribute in _ATTRIBUTES.items()}  # header -> field
_SPEC = "specversion"  # read with the fields, checked and dropped
_READ = _HEADERS | {"ce_specversion": _SPEC, "traceparent": "traceparent"}  # every header a record's fields use

Headers = Sequence[tuple[str, bytes]]


class MalformedEventError(ValueError):
    """A Kafka record that is not a valid envelope; `reason` says why, for the dead-letter topic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EnvelopeFields(TypedDict):
    """An envelope's fields as its publisher makes them, before validation: JSON-ready but for `id`
    (text or a UUID) and `occurred_at`, which serialise as the envelope's would."""

    id: str | UUID
    type: str
    version: int
    source: str
    subject: str
    tenant: str
    actor: str
    occurred_at: datetime
    sequence: int
    position: int
    correlation_id: str
    causation_id: str
    data: dict[str, Any]
    traceparent: NotRequired[str | None]


class EnvelopeContext(BaseModel):
    """An envelope's attributes, all but its data (CloudEvents' context attributes): who, what,
    when, where in which stream."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: UUID
    type: str = Field(pattern=r"^[a-z][a-z_]*(\.[a-z_]+)+$", examples=["ticket.opened"])
    version: int = Field(ge=1, description="Schema version of `data` for this type.")
    source: str = Field(min_length=1, description="The publishing service, e.g. `intake`.")
    subject: str = Field(min_length=1, description="The aggregate (ticket) id; the Kafka key.")
    tenant: str = Field(min_length=1)
    actor: str = Field(min_length=1, description="Authenticated identity that caused the event.")
    occurred_at: datetime
    sequence: int = Field(ge=1, description="Aggregate version after this event.")
    position: int = Field(ge=1, description="Notification id in the source's event store.")
    correlation_id: str
    causation_id: str
    traceparent: str | None = Field(default=None, description="W3C trace context of the cause.")


class Envelope(EnvelopeContext):
    """One published event: who, what, when, where in which stream, and its data."""

    data: dict[str, Any]

    def to_kafka(self) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        """Key, value and headers of this event as a CloudEvents binary-mode Kafka record."""
        headers = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
        for field, attribute in _ATTRIBUTES.items():
            value = getattr(self, field)
            text = value.isoformat() if isinstance(value, datetime) else str(value)
            headers.append((f"ce_{attribute}", text.encode()))
        if self.traceparent:
            headers.append(("traceparent", self.traceparent.encode()))
        value = json.dumps(self.data, separators=(",", ":"), sort_keys=True).encode()
        return self.subject.encode(), value, headers

    @classmethod
    def from_kafka(cls, value: bytes | None, headers: Headers) -> Envelope:
        """Parse a binary-mode record; raise MalformedEventError naming what is wrong."""
        try:
            return cls.model_validate(kafka_fields(value, headers))
        except ValidationError as error:
            raise malformed(error) from None


def kafka_fields(value: bytes | None, headers: Headers) -> dict[str, Any]:
    """The envelope fields of a binary-mode record, before validation; raise MalformedEventError
    when it is no CloudEvent at all."""
    fields: dict[str, Any] = {"traceparent": None}
    try:  # one pass over the headers: a rebuild from Kafka reads hundreds of thousands of records
        for name, raw in headers:
            if (field := _READ.get(name)) is not None:
                fields[field] = raw.decode()
    except UnicodeDecodeError:
        raise MalformedEventError("a header is not UTF-8") from None
    if (spec := fields.pop(_SPEC, None)) != SPEC_VERSION:
        raise MalformedEventError(f"ce_specversion must be {SPEC_VERSION!r}, got {spec!r}")
    if len(fields) <= len(_HEADERS):  # each header's field, and traceparent
        raise MalformedEventError(f"missing header {next(h for h, f in _HEADERS.items() if f not in fields)}")
    for name in _INTEGERS:  # as numbers: a version also tells a typed envelope's model apart
        if fields[name].isdigit():
            fields[name] = int(fields[name])
    try:  # keys only: a value (a ticket's id, an instant) seldom comes again, and a cached one stays in memory
        data = from_json(value or b"", cache_strings="keys")
    except ValueError as error:
        raise MalformedEventError(f"value is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise MalformedEventError("value must be a JSON object")
    fields["data"] = data
    return fields


def malformed(error: ValidationError) -> MalformedEventError:
    """The first thing `error` found wrong, named by where it is."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return MalformedEventError(f"{where}: {first['msg']}")


class EventData(BaseModel):
    """Base of every event's `data`: the (type, version) it is published under."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: ClassVar[str]
    event_version: ClassVar[int]
