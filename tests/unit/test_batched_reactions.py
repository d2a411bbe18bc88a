"""A consumer's batch of upstream events decided on one unit of work and recorded in one transaction,
on the real SQLite store: still each event once, in order, and no agent over capacity."""

from __future__ import annotations

import itertools
import uuid
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope, EventData
from schemas.keywords import KeywordDigests
from schemas.registry import parse_data
from services.chassis.runtime.settings import Settings
from services.chassis.storage.processing import BatchFailedError, commit, commit_batch
from services.chassis.storage.store import store_env
from services.routing.application import Routing
from services.routing.choosing import Presence, Strategy
from services.routing.errors import NotFoundError
from services.routing.reactions import reactions

TENANT = "acme"
Event = tuple[Envelope, EventData, Tracking]


class Desk:
    """Routing on SQLite with a hand on the ticket stream: events are made, then applied in batches."""

    def __init__(self, data_dir: Path) -> None:
        self.env = store_env(Settings(data_dir=data_dir), Routing.name)
        self.routing = Routing(env=self.env)
        self.apply = reactions(self.routing, KeywordDigests(b"a test keyword secret"))
        self.positions = itertools.count(1)
        self.routing.define_group(TENANT, "first-line", 1, Strategy.ROUND_ROBIN, default=True)
        for agent in ("sam", "tess"):
            self.routing.register_agent(TENANT, agent, ["first-line"], [], 1, 1)
            self.routing.set_presence(TENANT, agent, Presence.ONLINE)

    def event(self, type: str, data: dict[str, Any], version: int = 1) -> Event:
        position = next(self.positions)
        envelope = Envelope(
            id=uuid.uuid4(), type=type, version=version, source="intake", subject=data["ticket_id"], tenant=TENANT,
            actor="customer-1", occurred_at=datetime.now(UTC), sequence=1, position=position, correlation_id="c",
            causation_id="c", data=data,
        )  # fmt: skip
        return envelope, parse_data(envelope), Tracking("intake", position)

    def opened(self) -> Event:
        data = {"ticket_id": str(uuid.uuid4()), "number": "SD-1", "requester_id": "c1", "channel": "email",
                "tags": [], "category": "general", "type": "request", "priority": "P3", "keywords": []}  # fmt: skip
        return self.event("ticket.opened", data, version=2)

    def resolved(self, opened: Event) -> Event:
        ticket_id = opened[0].subject
        return self.event("ticket.status_changed", {"ticket_id": ticket_id, "status": "resolved", "change": "resolved"})

    def batch(self, events: list[Event]) -> set[int]:
        return commit_batch(self.routing, [e[2] for e in events], lambda k: self.apply(*events[k]))

    def agent_of(self, event: Event) -> str | None:
        return self.routing.ticket(TENANT, event[0].subject).agent_id

    def load(self, agent_id: str) -> int:
        return len(self.routing.agent(TENANT, agent_id).tickets)

    def events_recorded(self) -> int:
        return self.routing.recorder.max_notification_id() or 0


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return Desk(tmp_path)


def test_a_batch_with_a_redelivered_event_applies_the_rest_once(desk: Desk) -> None:
    first = desk.opened()
    desk.apply(*first)  # delivered alone before
    before = desk.events_recorded()
    second, third = desk.opened(), desk.opened()
    assert desk.batch([first, second, third, second]) == {0, 3}  # redelivered before, and twice in the batch
    assert {desk.agent_of(first), desk.agent_of(second)} == {"sam", "tess"}
    assert desk.agent_of(third) is None  # queued: both agents are full
    recorded = desk.events_recorded()
    assert recorded > before
    assert desk.batch([first, second, third]) == {0, 1, 2}  # the whole batch again: nothing changes
    assert desk.events_recorded() == recorded


def test_routing_never_puts_an_agent_over_capacity_within_a_batch(desk: Desk) -> None:
    tickets = [desk.opened() for _ in range(5)]
    desk.batch(tickets)
    assert (desk.load("sam"), desk.load("tess")) == (1, 1)
    assert [desk.agent_of(t) for t in tickets[2:]] == [None, None, None]
    # a later event of the batch sees what an earlier one freed, and takes it once
    freed = desk.agent_of(tickets[0])
    desk.batch([desk.resolved(tickets[0]), desk.opened(), desk.resolved(tickets[2])])
    assert desk.agent_of(tickets[2]) == freed  # the oldest waiting ticket took the freed place, then was resolved
    assert (desk.load("sam"), desk.load("tess")) == (1, 1)


def test_a_failing_event_voids_its_batch_so_it_can_be_found_alone(desk: Desk) -> None:
    good, bad = desk.opened(), desk.opened()
    before = desk.events_recorded()

    def run(k: int) -> None:
        desk.apply(*[good, bad][k])
        if k == 1:
            raise RuntimeError("a bug in the reaction")

    with pytest.raises(RuntimeError):
        commit_batch(desk.routing, [good[2], bad[2]], run)
    assert desk.events_recorded() == before  # nothing of the batch, not even the good event's decision
    with pytest.raises(NotFoundError):
        desk.agent_of(good)
    assert desk.batch([good]) == set()
    assert desk.agent_of(good) is not None


def test_a_failure_the_reaction_swallows_still_voids_the_batch(desk: Desk) -> None:
    event = desk.opened()

    def run(k: int) -> None:
        def decide() -> list[Any]:
            raise ValueError("half way through")

        with suppress(ValueError):
            commit(desk.routing, decide, event[2])

    with pytest.raises(BatchFailedError):
        commit_batch(desk.routing, [event[2]], run)


def test_a_race_lost_to_another_replica_decides_the_batch_again_on_fresh_state(desk: Desk) -> None:
    replica = Routing(env=desk.env)
    tickets = [desk.opened() for _ in range(3)]
    raced: list[int] = []

    def run(k: int) -> None:
        desk.apply(*tickets[k])
        if not raced:  # meanwhile the other replica gives sam's place to a ticket of its own
            raced.append(k)
            replica_apply = reactions(replica, KeywordDigests(b"a test keyword secret"))
            replica_apply(*desk.opened())

    commit_batch(desk.routing, [t[2] for t in tickets], run)
    assert (desk.load("sam"), desk.load("tess")) == (1, 1)
    assert sum(desk.agent_of(t) is not None for t in tickets) == 1  # one place was left for the batch
