"""A service's own read model of its store: each event written once, a batch at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from services.chassis.runtime.settings import Settings
from services.chassis.storage.projector import SqlProjection
from services.chassis.storage.store import tracking_recorder
from services.chassis.storage.views import Sql


class WordCounts(SqlProjection):
    name = "word-counts"
    schema = ("CREATE TABLE IF NOT EXISTS word_counts (word TEXT PRIMARY KEY, n INTEGER NOT NULL)",)

    def write(self, sql: Sql, event: Any) -> None:
        sql.execute(
            "INSERT INTO word_counts VALUES (:word, 1) ON CONFLICT (word) DO UPDATE SET n = word_counts.n + 1",
            {"word": event},
        )

    def counts(self) -> dict[str, int]:
        return {row["word"]: row["n"] for row in self.view.query("SELECT word, n FROM word_counts")}


def test_a_batch_is_written_with_its_tracking_and_a_redelivered_one_changes_nothing(tmp_path: Path) -> None:
    counts = WordCounts(tracking_recorder(Settings(persistence="sqlite", data_dir=tmp_path), "desk"))
    batch = [("hello", 1), ("desk", 2), ("hello", 3)]
    counts.apply(batch, [Tracking("word-counts", position) for _, position in batch])
    assert counts.position() == 3
    with pytest.raises(IntegrityError):
        counts.apply(batch[2:], [Tracking("word-counts", 3)])
    assert counts.counts() == {"hello": 2, "desk": 1}
