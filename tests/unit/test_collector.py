"""A rebuild tunes Python's cycle collector for its replay and leaves it as it found it."""

from __future__ import annotations

import gc

import pytest

from services.chassis.runtime.collector import YOUNG_THRESHOLD, collecting_rarely


def test_a_replay_collects_young_objects_rarely_and_leaves_the_old_ones_out() -> None:
    before = gc.get_threshold()
    with collecting_rarely():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0  # what the process held when the replay began
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_replay_that_fails_still_restores_the_collector() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collecting_rarely():
        raise RuntimeError("the feed went away")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
