"""Deciding and recording with the upstream position: lost races retried, duplicates refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from services.chassis.runtime.settings import Settings
from services.chassis.storage.processing import commit
from services.chassis.storage.store import store_env
from services.routing.application import Routing
from services.routing.choosing import Strategy
from services.routing.domain import DeskSetup


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
