"""A draft trigger's what-if in memory: a history of ticket events played through the current book and the
book with the candidate, with the live service's deciding code (the replay's sandboxes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError

from schemas.registry import TypedEnvelope, typed
from services.rules.sandbox import BookEntry
from services.rules.what_if import CANDIDATE_ID, Replay, candidate_book, candidate_of

TENANT = "acme"
START = datetime(2026, 11, 1, 9, tzinfo=UTC)


def event(type: str, data: dict[str, Any], at: datetime, version: int = 1, cause: str = "c") -> TypedEnvelope:
    return typed({"id": str(uuid.uuid4()), "type": type, "version": version, "source": "intake",
                  "subject": data["ticket_id"], "tenant": TENANT, "actor": "agent-1", "occurred_at": at, "sequence": 1,
                  "position": 1, "correlation_id": cause, "causation_id": cause, "data": data})  # fmt: skip


def opened(number: str, priority: str, at: datetime) -> TypedEnvelope:
    data = {"ticket_id": str(uuid.uuid4()), "number": number, "requester_id": "c1", "channel": "email", "tags": [],
            "category": "general", "type": "incident", "priority": priority, "keyword_digests": []}  # fmt: skip
    return event("ticket.opened", data, at, version=3, cause=str(uuid.uuid4()))


def spec(**raw: Any) -> dict[str, Any]:
    return candidate_of(raw)[1]


def replay(current: list[BookEntry], history: list[TypedEnvelope], **candidate: Any) -> dict[str, Any]:
    revised, drafted = candidate_of(candidate)
    run = Replay(TENANT, current, candidate_book(current, revised, drafted), revised or CANDIDATE_ID)
    run.run(history, START + timedelta(days=10), lambda done, total: None)
    return run.report(None)


URGENT = {"name": "Urgent", "when": ["ticket.opened"], "if": [{"field": "priority", "op": "is", "value": "P1"}],
          "then": {"tags_add": ["urgent"], "priority": "P2"}}  # fmt: skip


def test_a_draft_trigger_reports_the_tickets_it_would_have_touched() -> None:
    history = [opened("SD-1", "P1", START), opened("SD-2", "P3", START + timedelta(hours=1))]
    report = replay([], history, **URGENT)
    assert report["touched"]["tickets"] == 1
    assert report["touched"]["actions"] == {"priority": 1, "tags_add": 1}
    assert report["touched"]["examples"][0]["number"] == "SD-1"
    assert report["differed"]["added"] == 1


def test_a_timed_draft_fires_at_its_instant_in_replay_time() -> None:
    ticket = opened("SD-3", "P3", START)
    pending = event("ticket.status_changed", {"ticket_id": ticket.subject, "status": "pending", "change": "wait"},
                    START + timedelta(hours=1))  # fmt: skip
    report = replay([], [ticket, pending], name="Chase", when=["time"],
                    **{"if": [{"field": "status", "op": "is", "value": "pending"},
                              {"field": "hours_since", "of": "status_changed", "op": "greater", "value": 48}]},
                    then={"tags_add": ["chase"]})  # fmt: skip
    [example] = report["touched"]["examples"]
    assert example["at"] == (START + timedelta(hours=49)).isoformat()


def test_what_a_draft_would_have_done_changes_what_the_later_triggers_see() -> None:
    vip = BookEntry("vip", spec(name="VIP", when=["ticket.status_changed"],
                                **{"if": [{"field": "priority", "op": "is", "value": "P1"}]},
                                then={"tags_add": ["vip"]}))  # fmt: skip
    ticket = opened("SD-4", "P3", START)
    moved = event("ticket.status_changed", {"ticket_id": ticket.subject, "status": "open", "change": "open"},
                  START + timedelta(hours=1))  # fmt: skip
    report = replay([vip], [ticket, moved], name="Raise", when=["ticket.opened"], then={"priority": "P1"})
    changes = sorted((e["trigger_name"], e["change"]) for e in report["differed"]["examples"])
    assert changes == [("Raise", "added"), ("VIP", "added")]


def test_a_wrong_candidate_is_refused_naming_the_field() -> None:
    with pytest.raises(RequestValidationError) as refused:
        candidate_of({"name": "x", "when": ["ticket.opened"], "if": [{"field": "nope", "op": "is", "value": "a"}],
                      "then": {"tags_add": ["a"]}})  # fmt: skip
    assert refused.value.errors()[0]["loc"] == ("body", "candidate", "if[0].field")
    with pytest.raises(RequestValidationError) as missing:
        candidate_of({"when": ["ticket.opened"], "then": {"tags_add": ["a"]}})
    assert missing.value.errors()[0]["loc"] == ("body", "candidate", "name")


def test_a_saved_trigger_tried_as_a_draft_has_its_calendar_and_fields_read_again() -> None:
    office = {"time_zone": "UTC", "weekly": {"mon": [["09:00", "17:00"]]}}
    saved = {"name": "x", "when": ["time"], "then": {"tags_add": ["a"]}, "if": [
        {"field": "custom_fields.product", "op": "is", "value": "vpn", "kind": "choice", "choices": ["vpn"]},
        {"field": "hours_since", "of": "opened", "op": "greater", "value": 4.0, "business_hours": True,
         "calendar": "office", "calendar_spec": {"time_zone": "UTC", "weekly": {}}},
    ]}  # fmt: skip
    context = {"calendars": {"office": office}, "fields": {"product": {"kind": "choice", "choices": ["vpn", "mail"]}}}
    _, spec = candidate_of(saved, context=context)
    assert spec["if"][0]["choices"] == ["vpn", "mail"]
    assert spec["if"][1]["calendar_spec"] == office
    with pytest.raises(RequestValidationError) as refused:
        candidate_of(saved)  # nothing read: its calendar is not taken on trust from the draft
    assert refused.value.errors()[0]["loc"][:2] == ("body", "candidate")
