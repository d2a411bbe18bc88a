"""A consumer's batch reads the aggregates its events decide on in one query (PostgreSQL), each as the
repository would rebuild it: from its newest snapshot and the events after it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate, event
from eventsourcing.persistence import EventStore, Tracking

from services.chassis.runtime.settings import Settings
from services.chassis.storage import processing
from services.chassis.storage.processing import ProcessRecorderMixin, commit, commit_batch, find
from services.chassis.storage.store import store_env
from tests import infra


class Tally(Aggregate):
    @event("Started")
    def __init__(self, id: UUID) -> None:  # the id the upstream event names
        self.n = 0

    @event("Counted")
    def count(self) -> None:
        self.n += 1


class Tallies(ProcessRecorderMixin, Application[UUID]):
    name = "tallies"
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[UUID]], int]] = {Tally: 5}


@pytest.fixture
def settings(postgres: infra.Postgres) -> Iterator[Settings]:
    with postgres.fresh_settings() as fresh:
        yield fresh


def _counted(app: Tallies, tally_id: UUID) -> list[Any]:
    tally = find(app, tally_id, Tally)
    if tally is None:  # the first event about it: the id it names
        tally = Tally(id=tally_id)
    tally.count()
    return [tally]


def _written(settings: Settings, counts: list[int]) -> list[UUID]:
    """Tallies written by another process (its own application, its own cache), counted so many times."""
    writer = Tallies(env=store_env(settings, Tallies.name))
    ids = []
    for n in counts:
        tally = Tally(id=uuid4())
        for _ in range(n):
            tally.count()
        writer.save(tally)
        ids.append(tally.id)
    return ids


def test_a_batch_decides_on_tallies_another_process_wrote_reading_them_all_in_one_query(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshotted, plain = _written(settings, [7, 1])  # 8 events: a snapshot at 5, then 3 events
    app = Tallies(env=store_env(settings, Tallies.name))
    assert app.snapshots is not None
    assert list(app.snapshots.get(snapshotted))
    unknown = uuid4()
    ids = [snapshotted, plain, unknown]

    def one_at_a_time(*args: Any) -> None:
        raise AssertionError("read one at a time")

    monkeypatch.setattr(processing, "_load", one_at_a_time)
    trackings = [Tracking("upstream", k + 1) for k in range(len(ids))]

    def run(k: int) -> None:
        commit(app, lambda: _counted(app, ids[k]), trackings[k])

    skipped = commit_batch(app, trackings, run, preload=lambda k: ids[k])
    monkeypatch.undo()

    assert skipped == set()
    reader = Tallies(env=store_env(settings, Tallies.name))
    assert [reader.repository.get(i).n for i in ids] == [8, 2, 1]
    assert commit_batch(app, trackings, run, preload=lambda k: ids[k]) == {0, 1, 2}  # redelivered: skipped
    assert [reader.repository.get(i).n for i in ids] == [8, 2, 1]


def test_a_batch_decides_on_tallies_its_own_cache_holds_checking_them_all_in_one_query(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _written(settings, [7, 1, 2])
    app = Tallies(env=store_env(settings, Tallies.name) | {"AGGREGATE_CACHE_MAXSIZE": "100"})  # fast-forwarded
    assert app.repository.cache is not None

    def batch(first: int) -> None:
        trackings = [Tracking("upstream", first + k) for k in range(len(ids))]

        def run(k: int) -> None:
            commit(app, lambda: _counted(app, ids[k]), trackings[k])

        commit_batch(app, trackings, run, preload=lambda k: ids[k])

    batch(1)  # read from the store, then cached at the versions it recorded

    def one_at_a_time(*args: Any) -> None:
        raise AssertionError("read one at a time")

    monkeypatch.setattr(processing, "_load", one_at_a_time)
    batch(4)  # every cached copy is current: one query says so, none is fast-forwarded alone
    monkeypatch.undo()
    writer = Tallies(env=store_env(settings, Tallies.name))
    other: Tally = writer.repository.get(ids[1])
    other.count()  # another process moves one on: this cache's copy of it is stale
    writer.save(other)
    batch(7)

    reader = Tallies(env=store_env(settings, Tallies.name))
    assert [reader.repository.get(i).n for i in ids] == [10, 5, 5]


def test_a_batch_that_lost_a_race_to_another_writer_decides_again_on_what_it_wrote(settings: Settings) -> None:
    first, second = _written(settings, [1, 2])
    app = Tallies(env=store_env(settings, Tallies.name))
    writer = Tallies(env=store_env(settings, Tallies.name))
    raced: list[int] = []

    def run(k: int) -> None:
        tally_id = [first, second][k]
        if not raced:  # another process counts the first tally while this batch decides
            raced.append(k)
            other: Tally = writer.repository.get(first)
            other.count()
            writer.save(other)
        commit(app, lambda: _counted(app, tally_id), Tracking("upstream", k + 1))

    commit_batch(app, [Tracking("upstream", 1), Tracking("upstream", 2)], run, preload=lambda k: [first, second][k])

    reader = Tallies(env=store_env(settings, Tallies.name))
    assert (reader.repository.get(first).n, reader.repository.get(second).n) == (3, 3)


class CheckedTallies(Tallies):
    """Its snapshot store checks each snapshot before it hands it out (as intake's does against the seals)."""

    name = "tallies"  # the same store

    def construct_snapshot_store(self) -> EventStore[UUID]:
        class Checked(EventStore[UUID]):
            def get(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
                return iter(())  # none passes its check

        return Checked(self.mapper, self.factory.aggregate_recorder(purpose="snapshots"))


def test_a_batch_does_not_take_a_snapshot_its_application_would_check_first(
    settings: Settings, postgres: infra.Postgres
) -> None:
    (tally_id,) = _written(settings, [7])  # a snapshot at 5
    with postgres.connect(settings.postgres_dbname) as conn:  # a snapshot no check would pass
        conn.execute("UPDATE tallies_snapshots SET state = %s", (b"not a snapshot",))
    app = CheckedTallies(env=store_env(settings, Tallies.name))
    trackings = [Tracking("upstream", 1), Tracking("upstream", 2)]

    def run(k: int) -> None:
        commit(app, lambda: _counted(app, [tally_id, uuid4()][k]), trackings[k])

    commit_batch(app, trackings, run, preload=lambda k: [tally_id, uuid4()][k])

    reader = Tallies(env=store_env(settings, Tallies.name))
    assert [e.originator_version for e in reader.events.get(tally_id)][-1] == 9
    assert app.repository.get(tally_id).n == 8  # from its events
