"""The wire contract: envelopes survive the trip through Kafka headers, bad records say why."""

from __future__ import annotations

import gc
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.envelope import Envelope, MalformedEventError, kafka_fields
from schemas.export import export
from schemas.registry import EVENT_TYPES, UnknownEventError, parse_data, typed
from schemas.tickets import (
    AuthorKind,
    TicketCommentedV2,
    TicketOpenedV3,
    TicketOpenedV4,
    TicketOpenedV5,
    TicketOpenedV6,
    TicketRatedV1,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def an_envelope(**changes: Any) -> Envelope:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(), "type": "ticket.opened", "version": 1, "source": "intake", "subject": str(uuid.uuid4()),
        "tenant": "acme", "actor": "agent-7", "occurred_at": datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        "sequence": 1, "position": 42, "correlation_id": "corr", "causation_id": "cause",
        "data": {"ticket_id": "t", "number": "SD-2026-000001", "requester_id": "c", "channel": "email",
                 "category": "network", "type": "incident", "priority": "P2", "tags": []},
    }  # fmt: skip
    return Envelope.model_validate(fields | changes)


@given(
    data=st.dictionaries(st.text(max_size=10), json_values, max_size=6),
    tenant=st.from_regex(r"[a-z]{1,10}", fullmatch=True),
)
def test_an_envelope_reads_back_exactly_as_it_was_written(data: dict[str, Any], tenant: str) -> None:
    envelope = an_envelope(
        data=data, tenant=tenant, traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    )
    key, value, headers = envelope.to_kafka()
    assert key == envelope.subject.encode()
    assert Envelope.from_kafka(value, headers) == envelope


def test_the_envelope_maps_to_cloudevents_binary_headers() -> None:
    _, _, headers = an_envelope().to_kafka()
    names = {name for name, _ in headers}
    assert {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time"} <= names
    assert {"ce_tenant", "ce_actor", "ce_sequence", "ce_position", "ce_correlationid", "ce_causationid"} <= names
    assert dict(headers)["content-type"] == b"application/json"


@pytest.mark.parametrize(
    ("value", "drop", "reason"),
    [
        (b"[1]", None, "value must be a JSON object"),
        (b"{nope", None, "value is not JSON"),
        (b"{}", "ce_tenant", "missing header ce_tenant"),
        (b"{}", "ce_specversion", "ce_specversion must be '1.0'"),
    ],
)
def test_a_malformed_record_names_what_is_wrong(value: bytes, drop: str | None, reason: str) -> None:
    _, _, headers = an_envelope().to_kafka()
    headers = [(name, raw) for name, raw in headers if name != drop]
    with pytest.raises(MalformedEventError, match=reason):
        Envelope.from_kafka(value, headers)


def test_a_record_with_a_bad_attribute_names_the_attribute() -> None:
    _, value, headers = an_envelope().to_kafka()
    headers = [(n, b"minus one" if n == "ce_position" else raw) for n, raw in headers]
    with pytest.raises(MalformedEventError, match="position"):
        Envelope.from_kafka(value, headers)


def test_data_is_read_by_its_type_and_version() -> None:
    assert isinstance(parse_data(an_envelope(version=3)), TicketOpenedV3)
    with pytest.raises(UnknownEventError, match=r"ticket\.opened' version 9"):
        parse_data(an_envelope(version=9))


def test_a_ticket_opened_before_v2_reads_as_v4_without_organisation_words_language_or_fields() -> None:
    data = parse_data(an_envelope(version=1))
    assert isinstance(data, TicketOpenedV5)
    assert (data.event_version, data.organisation, data.keyword_digests, data.legacy_keywords) == (6, None, [], [])
    assert (data.language, data.custom_fields, data.imported_from) == (None, {}, None)


def test_a_v3_ticket_opened_reads_as_v4_with_no_language_and_no_custom_field() -> None:
    v3 = an_envelope(version=3)
    data = parse_data(v3.model_copy(update={"data": v3.data | {"organisation": "o", "keyword_digests": ["ab"]}}))
    assert isinstance(data, TicketOpenedV4)
    assert (data.organisation, data.keyword_digests, data.language, data.custom_fields) == ("o", ["ab"], None, {})


def test_a_v4_ticket_opened_reads_as_v5_opened_here_and_a_v5_says_where_it_was_imported_from() -> None:
    assert parse_data(an_envelope(version=4)).imported_from is None  # type: ignore[attr-defined]
    v5 = an_envelope(version=5)
    origin = {"system": "rt", "url": "https://rt.example", "id": "123"}
    data = parse_data(v5.model_copy(update={"data": v5.data | {"imported_from": origin}}))
    assert isinstance(data, TicketOpenedV5)
    assert data.imported_from is not None
    assert data.imported_from.model_dump() == origin


def test_a_v2_ticket_opened_reads_as_v3_with_its_plain_words_kept_aside_not_in_the_data() -> None:
    v2 = an_envelope(version=2)
    data = parse_data(v2.model_copy(update={"data": v2.data | {"organisation": "o", "keywords": ["vpn", "drops"]}}))
    assert isinstance(data, TicketOpenedV4)
    assert (data.organisation, data.keyword_digests, data.legacy_keywords) == ("o", [], ["vpn", "drops"])
    assert "vpn" not in data.model_dump_json(), "the plain words are not part of v3"


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5])
def test_a_ticket_opened_before_v6_reads_as_v6_naming_no_sla_of_its_organisation(version: int) -> None:
    data = parse_data(an_envelope(version=version))
    assert isinstance(data, TicketOpenedV6)
    assert (data.event_version, data.sla_policy_id, data.sla_calendar_id) == (6, None, None)
    assert (data.number, data.priority, data.category) == ("SD-2026-000001", "P2", "network")


def test_a_v2_ticket_opened_keeps_its_plain_words_aside_all_the_way_to_v6() -> None:
    v2 = an_envelope(version=2)
    data = parse_data(v2.model_copy(update={"data": v2.data | {"organisation": "o", "keywords": ["vpn"]}}))
    assert isinstance(data, TicketOpenedV6)
    assert (data.organisation, data.legacy_keywords, data.sla_policy_id) == ("o", ["vpn"], None)
    assert "vpn" not in data.model_dump_json()


def test_a_v6_ticket_opened_names_its_organisations_sla_policy_and_calendar() -> None:
    v6 = an_envelope(version=6)
    own = {"organisation": "org-1", "sla_policy_id": "gold", "sla_calendar_id": "tokyo-hours"}
    data = parse_data(v6.model_copy(update={"data": v6.data | own}))
    assert isinstance(data, TicketOpenedV6)
    assert (data.organisation, data.sla_policy_id, data.sla_calendar_id) == ("org-1", "gold", "tokyo-hours")
    assert data.imported_from is None


def a_comment(version: int, **data: Any) -> Envelope:
    fields = {"ticket_id": "t", "comment_id": "c-1", "public": True, "author_id": "agent-7", "channel": "api"}
    return an_envelope(type="ticket.commented", version=version, data=fields | data)


def test_a_comment_says_who_wrote_it_and_one_published_as_v1_is_told_apart_by_the_requester_only() -> None:
    data = parse_data(a_comment(2, author_id="colleague", author_kind="other"))
    assert isinstance(data, TicketCommentedV2)
    assert data.kind_for("colleague") == AuthorKind.OTHER, "what intake said wins over the ids"
    old = parse_data(a_comment(1))
    assert isinstance(old, TicketCommentedV2)
    assert old.author_kind is None
    assert old.kind_for("customer-1") == AuthorKind.OTHER, "nobody vouched for them as staff"
    assert old.kind_for("agent-7") == AuthorKind.REQUESTER


def test_every_event_type_and_version_exports_a_json_schema(tmp_path: Path) -> None:
    written = {path.name for path in export(tmp_path)}
    assert "envelope.json" in written
    assert {f"{t.event_type}.v{t.event_version}.json" for t in EVENT_TYPES} <= written


def test_the_committed_json_schemas_are_current(tmp_path: Path) -> None:
    committed = Path(__file__).resolve().parents[2] / "schemas" / "json"
    for path in export(tmp_path):
        assert (committed / path.name).read_text() == path.read_text(), f"run `make schemas`: {path.name} changed"


def test_a_kafka_record_reads_as_its_types_model_in_one_pass() -> None:
    envelope = Envelope.model_validate(
        {"id": str(uuid.uuid4()), "type": "ticket.rated", "version": 1, "source": "intake", "subject": "t-1",
         "tenant": "acme", "actor": "c-1", "occurred_at": "2026-12-01T10:00:00Z", "sequence": 7, "position": 42,
         "correlation_id": "c", "causation_id": "c", "data": {"ticket_id": "t-1", "score": 5}}
    )  # fmt: skip
    _, value, headers = envelope.to_kafka()
    read = typed(kafka_fields(value, headers))
    assert isinstance(read.data, TicketRatedV1)
    assert read.data.score == 5
    assert (read.version, read.position, read.sequence) == (1, 42, 7)
    unknown = [(name, b"9" if name == "ce_dataversion" else raw) for name, raw in headers]
    with pytest.raises(UnknownEventError, match=r"'ticket\.rated' version 9"):
        typed(kafka_fields(value, unknown))
    with pytest.raises(MalformedEventError, match=r"^data\.score: "):
        typed(kafka_fields(b'{"ticket_id": "t-1", "score": 9}', headers))


def test_reading_records_keeps_none_of_their_values_in_memory() -> None:
    """A consumer reads every ticket's id once: kept in the JSON parser's string cache (16,384 of them), the ids
    grew each consumer by ~1.5 MiB (issue 22's soak)."""
    records = [
        an_envelope(data={"ticket_id": str(uuid.uuid4()), "at": str(uuid.uuid4())}).to_kafka() for _ in range(5000)
    ]
    gc.collect()
    before = sys.getallocatedblocks()
    for _, value, headers in records:
        kafka_fields(value, headers)
    gc.collect()
    assert sys.getallocatedblocks() - before < 500  # 10,000 distinct values read, a cached one a block each
