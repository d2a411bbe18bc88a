"""Fixtures: real infrastructure once per session, a fresh desk per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import infra
from tests.harness import Desk, desk_settings

# The SMTP sink and the Bot API stand-in; a real Request Tracker (the importer's): as fixtures.
pytest_plugins = ["tests.channel_peers", "tests.request_tracker"]


@pytest.fixture(scope="session")
def kafka() -> infra.Kafka:
    return infra.kafka()


@pytest.fixture(scope="session")
def postgres() -> infra.Postgres:
    return infra.postgres()


@pytest.fixture
def desk(tmp_path: Path, kafka: infra.Kafka, postgres: infra.Postgres) -> Iterator[Desk]:
    """A desk on PostgreSQL and Kafka, with its own database and Kafka namespace."""
    with postgres.fresh_database() as dbname:
        desk = desk_settings(tmp_path, "postgres", kafka, postgres, dbname)
        try:
            yield desk
        finally:
            desk.stop_all()


@pytest.fixture
def sqlite_desk(tmp_path: Path, kafka: infra.Kafka) -> Iterator[Desk]:
    """A desk on the embedded default: SQLite event stores, Kafka."""
    desk = desk_settings(tmp_path, "sqlite", kafka, None, None)
    try:
        yield desk
    finally:
        desk.stop_all()
