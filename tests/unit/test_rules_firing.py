"""The rules service in memory: ticket events arrive, firings leave as `rules.trigger_fired`.

Fast scenarios on eventsourcing's in-memory store; the same code runs on real Kafka and PostgreSQL in
tests/integration/test_triggers.py.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope
from schemas.registry import parse_data
from schemas.rules import TriggerFiredV1
from services.rules.application import Rules
from services.rules.publication import publication
from services.rules.requests import TriggerSpec

TENANT = "acme"


class Desk:
    def __init__(self) -> None:
        self.rules = Rules(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.positions = itertools.count(1)
        self.publish = publication(self.rules)

    def trigger(self, **spec: Any) -> str:
        stored = TriggerSpec.model_validate(spec).stored()
        return str(self.rules.create_trigger(TENANT, stored, "admin-1").id)

    def event(self, type: str, data: dict[str, Any], correlation: str = "c", version: int = 1) -> None:
        position = next(self.positions)
        envelope = Envelope(
            id=uuid.uuid4(), type=type, version=version, source="intake", subject=data["ticket_id"], tenant=TENANT,
            actor="agent-1", occurred_at=datetime.now(UTC), sequence=1, position=position, correlation_id=correlation,
            causation_id=correlation, data=data,
        )  # fmt: skip
        self.rules.react(envelope, parse_data(envelope), Tracking("intake", position))

    def open(self, priority: str = "P3", channel: str = "email", correlation: str = "open") -> str:
        ticket_id = str(uuid.uuid4())
        data = {"ticket_id": ticket_id, "number": "SD-1", "requester_id": "c1", "channel": channel, "tags": [],
                "category": "general", "type": "incident", "priority": priority, "keyword_digests": []}  # fmt: skip
        self.event("ticket.opened", data, correlation, version=3)
        return ticket_id

    def firings(self) -> list[TriggerFiredV1]:
        found = []
        for notification in self.rules.recorder.select_notifications(1, 100_000):
            if (record := self.publish(notification)) is not None:
                data = parse_data(record[1])
                assert isinstance(data, TriggerFiredV1)
                found.append(data)
        return found

    def intake_applies(self, firing: TriggerFiredV1, previous: str) -> None:
        """What intake's save of a priority action publishes: the change, under the firing's correlation id."""
        priority = firing.actions["priority"]
        self.event("ticket.priority_changed", {"ticket_id": firing.ticket_id, "priority": priority,
                                               "previous": previous}, correlation="chain")  # fmt: skip


def test_an_urgent_email_ticket_fires_with_the_reason_in_words() -> None:
    desk = Desk()
    desk.trigger(name="Urgent mail", when=["ticket.opened"], then={"tags_add": ["urgent"]},
                 **{"if": [{"field": "priority", "op": "is", "value": "P1"},
                           {"field": "channel", "op": "is", "value": "email"}]})  # fmt: skip
    desk.open(priority="P3")
    ticket_id = desk.open(priority="P1")
    [firing] = desk.firings()
    assert (firing.ticket_id, firing.reason, firing.actions) == (
        ticket_id,
        "priority is P1 and channel is email",
        {"tags_add": ["urgent"]},
    )
    assert firing.event_type_seen == "ticket.opened"


def test_no_trigger_acts_on_a_ticket_imported_with_its_history() -> None:
    desk = Desk()
    desk.trigger(name="Any status", when=["ticket.opened", "ticket.status_changed"], then={"tags_add": ["seen"]})
    ticket_id = str(uuid.uuid4())
    origin = {"system": "rt", "url": "https://rt.example", "id": "123"}
    data = {"ticket_id": ticket_id, "number": "SD-2019-1", "requester_id": "c1", "channel": "email", "tags": [],
            "category": "general", "type": "incident", "priority": "P1", "imported_from": origin}  # fmt: skip
    desk.event("ticket.opened", data, version=5)
    desk.event("ticket.status_changed", {"ticket_id": ticket_id, "status": "resolved", "change": "resolved"})
    assert desk.firings() == []


def test_a_later_trigger_sees_what_an_earlier_one_does() -> None:
    desk = Desk()
    desk.trigger(name="Raise", when=["ticket.opened"], then={"priority": "P1"},
                 **{"if": [{"field": "priority", "op": "is", "value": "P2"}]})  # fmt: skip
    desk.trigger(name="Mark", when=["ticket.opened"], then={"tags_add": ["hot"]},
                 **{"if": [{"field": "priority", "op": "is", "value": "P1"}]})  # fmt: skip
    desk.open(priority="P2")
    assert [f.trigger_name for f in desk.firings()] == ["Raise", "Mark"]


def test_a_loop_of_two_triggers_fires_each_once_per_chain() -> None:
    desk = Desk()
    desk.trigger(name="A", when=["ticket.priority_changed"], then={"priority": "P1"},
                 **{"if": [{"field": "priority", "op": "is", "value": "P2"}]})  # fmt: skip
    desk.trigger(name="B", when=["ticket.priority_changed"], then={"priority": "P2"},
                 **{"if": [{"field": "priority", "op": "is", "value": "P1"}]})  # fmt: skip
    ticket_id = desk.open(priority="P3")
    desk.event("ticket.priority_changed", {"ticket_id": ticket_id, "priority": "P2", "previous": "P3"}, "chain")
    for previous in ("P2", "P1", "P2"):
        firings = desk.firings()
        desk.intake_applies(firings[-1], previous)
    assert [f.trigger_name for f in desk.firings()] == ["A", "B"]
    desk.event("ticket.priority_changed", {"ticket_id": ticket_id, "priority": "P2", "previous": "P1"}, "next")
    assert [f.trigger_name for f in desk.firings()] == ["A", "B", "A", "B"]  # a new chain: each once again


def test_a_disabled_or_retired_trigger_does_not_fire_and_a_redelivery_fires_nothing_twice() -> None:
    desk = Desk()
    quiet = desk.trigger(name="Quiet", when=["ticket.opened"], then={"tags_add": ["q"]})
    gone = desk.trigger(name="Gone", when=["ticket.opened"], then={"tags_add": ["g"]})
    desk.trigger(name="Seen", when=["ticket.opened"], then={"tags_add": ["s"]})
    desk.rules.change_trigger(TENANT, uuid.UUID(quiet), lambda t: t.disable("noisy", "admin-1"), None)
    desk.rules.change_trigger(TENANT, uuid.UUID(gone), lambda t: t.retire("admin-1"), None)
    desk.open()
    assert [f.trigger_name for f in desk.firings()] == ["Seen"]
    assert [t.spec["name"] for t in desk.rules.triggers(TENANT)] == ["Quiet", "Seen"]


def test_a_firing_refused_for_good_disables_its_trigger_with_the_reason() -> None:
    desk = Desk()
    bad = desk.trigger(name="Bad macro", when=["ticket.opened"], then={"macro_id": str(uuid.uuid4())})
    ticket_id = desk.open()
    [firing] = desk.firings()
    desk.event("ticket.trigger_refused", {"ticket_id": ticket_id, "trigger_id": bad, "trigger_version": 1,
                                          "firing_id": firing.firing_id, "refusal": "then.macro_id: no macro",
                                          "for_good": True})  # fmt: skip
    trigger = desk.rules.trigger(TENANT, uuid.UUID(bad))
    assert not trigger.enabled
    assert trigger.disabled_reason == f"refused on ticket {ticket_id}: then.macro_id: no macro"
    assert [f["ticket_id"] for f in desk.rules.firings(TENANT, uuid.UUID(bad), 5)] == [ticket_id]
