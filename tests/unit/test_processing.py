"""Deciding and recording with the upstream position: lost races retried, duplicates refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import ClassVar
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate, event
from eventsourcing.persistence import IntegrityError, Tracking

from services.chassis.runtime.settings import Settings
from services.chassis.storage import processing
from services.chassis.storage.processing import as_of, commit
from services.chassis.storage.store import store_env
from services.routing.application import Routing
from services.routing.choosing import Presence, Strategy
from services.routing.domain import Agent, DeskSetup
from services.routing.work import Work


def test_an_event_arriving_after_a_later_position_is_retried_not_taken_for_a_duplicate(tmp_path: Path) -> None:
    """Kafka partitions deliver store positions out of order: position 5 may come after 10."""
    settings = Settings(data_dir=tmp_path)
    app = Routing(env=store_env(settings, Routing.name))
    app.define_group("acme", "first-line", 1, Strategy.LEAST_LOADED)
    commit(app, list, Tracking("intake", 10))
    stale = app.setup("acme")
    app.define_group("acme", "billing", 1, Strategy.SKILLS_MATCH)  # the setup moves on: `stale` loses a race
    attempts: list[DeskSetup] = []

    def decide() -> list[DeskSetup]:
        setup = stale if not attempts else app.setup("acme")
        attempts.append(setup)
        setup.define_group("second-line", 2, Strategy.LEAST_LOADED, None, [])
        return [setup]

    commit(app, decide, Tracking("intake", 5))
    assert len(attempts) == 2
    assert set(app.setup("acme").groups) == {"first-line", "billing", "second-line"}
    with pytest.raises(IntegrityError):
        commit(app, list, Tracking("intake", 5))


class Counter(Aggregate):
    @event("Counted")
    def count(self) -> None:
        self.n = getattr(self, "n", 0) + 1


class Counters(Application[UUID]):
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[UUID]], int]] = {Counter: 5}


def test_an_aggregate_as_of_an_instant_reads_the_same_from_its_snapshots_as_from_its_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long history read to a past instant, a page at a time: from the newest snapshot taken by then, or from
    the first event."""
    monkeypatch.setattr(processing, "AS_OF_PAGE", 3)
    app = Counters(env={"IS_SNAPSHOTTING_ENABLED": "y"})
    counter = Counter()
    instants = []
    for _ in range(12):  # snapshots at versions 5 and 10
        counter.count()
        app.save(counter)
        instants.append(counter.modified_on)
    assert app.snapshots is not None
    for n, instant in enumerate(instants, start=1):
        from_snapshot, from_events = (as_of(app, counter.id, instant, s) for s in (app.snapshots, None))
        assert from_snapshot.n == from_events.n == n
    assert as_of(app, counter.id, counter.created_on - timedelta(seconds=1), app.snapshots) is None


def test_a_group_read_after_a_decision_shares_the_recorded_agents_and_knows_every_newest_version(
    tmp_path: Path,
) -> None:
    """The decision's agents go into the cache as recorded: the next read of the group takes them from there
    (no copy, no read of their events), and each newest version is the store's, found one index probe each."""
    settings = Settings(data_dir=tmp_path)
    app = Routing(env=store_env(settings, Routing.name))
    app.define_group("acme", "first-line", 1, Strategy.LEAST_LOADED)
    for agent in ("ann", "bob"):
        app.register_agent("acme", agent, ["first-line"], [], 1, 5)
    app.set_presence("acme", "ann", Presence.ONLINE)
    ids = [Agent.create_id("acme", agent) for agent in ("ann", "bob")]
    stranger = Agent.create_id("acme", "nobody")

    def decide() -> list[Agent]:
        ann = Work(app, "acme").agent("ann")
        ann.take("ticket-1")
        return [ann]

    commit(app, decide)
    newest = processing.newest_versions(app, [*ids, stranger])
    assert app.repository.cache is not None
    recorded = app.repository.cache.get(ids[0])
    assert recorded.version == newest[ids[0]]
    read = Work(app, "acme").agents(["ann", "bob"])
    assert read[0] is recorded
    assert "ticket-1" in read[0].tickets
    stored = {agent.id: agent.version for agent in (app.agent("acme", "ann"), app.agent("acme", "bob"))}
    assert newest == stored
