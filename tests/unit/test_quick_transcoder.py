"""The stores' transcoder writes a stored event exactly as eventsourcing's JSON transcoder would, and reads it
back the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError

from services.chassis.storage.transcoding import QuickJSONTranscoder
from services.sla.application import Sla
from services.sla.clock import Clock

POLICY = {
    "policy_id": "gold", "version": 3, "match": {"priority": ["high"]}, "warn_at": [50, 90],
    "targets": {"first_response": 3600.0, "resolution": 86400}, "name": "Золото \u2028 \"quoted\" \\ tab\t",
    "calendar_spec": {"time_zone": "Europe/Moscow", "weekly": {"mon": [["09:00", "18:00"]]},
                      "holidays": ["2026-12-31"]},
}  # fmt: skip


def transcoders() -> tuple[JSONTranscoder, QuickJSONTranscoder]:
    app = Sla(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ours = QuickJSONTranscoder()
    app.register_transcodings(ours)
    return app.mapper.transcoder, ours  # type: ignore[return-value]


def a_clock_s_events() -> list[dict[str, object]]:
    opened = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    clock = Clock(id=uuid4(), tenant="acme", policy_id="gold", policy=POLICY, requester_id="r-1", opened_at=opened,
                  facts={"priority": "high", "category": None, "organisation": "Ромашка"})  # fmt: skip
    clock.start_metric("first_response", opened)
    clock.start_metric("resolution", opened)
    clock.fire(opened + timedelta(days=3))
    clock.resolve(opened + timedelta(days=4))
    return [dict(vars(event)) for event in clock.collect_events()]


def test_a_clock_s_events_are_written_byte_for_byte_as_eventsourcing_writes_them() -> None:
    theirs, ours = transcoders()
    states = a_clock_s_events()
    assert len(states) > 8
    for state in states:
        assert ours.encode(state) == theirs.encode(state)
        assert ours.decode(ours.encode(state)) == theirs.decode(theirs.encode(state))


def test_odd_values_are_written_as_eventsourcing_writes_them() -> None:
    theirs, ours = transcoders()
    state = {"nan": float("nan"), "big": 10**30, "float": 0.1 + 0.2, "decimal": Decimal("1.10"), "id": uuid4(),
             "nested": [{"at": datetime(2026, 1, 1, tzinfo=UTC)}, (1, "two"), None, True],
             "text": "emoji 🎫"}  # fmt: skip
    assert ours.encode(state) == theirs.encode(state)


def test_a_value_of_a_type_without_a_transcoding_is_refused_as_eventsourcing_refuses_it() -> None:
    _, ours = transcoders()
    with pytest.raises(TranscodingNotRegisteredError):
        ours.encode({"when": timedelta(seconds=1)})
