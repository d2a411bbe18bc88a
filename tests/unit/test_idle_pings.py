"""The pool pings a connection before handing it out only when it sat idle a while."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.postgres import ConnectionPool

from services.chassis.storage import postgres
from services.chassis.storage.postgres import IDLE_SECONDS, ping_when_idle


class Connection:
    pass


def test_a_connection_handed_out_a_moment_ago_is_not_pinged_and_one_idle_longer_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pinged: list[Any] = []
    now = [100.0]
    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(pinged.append))
    monkeypatch.setattr(postgres, "monotonic", lambda: now[0])
    connection = Connection()

    ping_when_idle(connection)  # never handed out before
    now[0] += IDLE_SECONDS / 2
    ping_when_idle(connection)
    now[0] += IDLE_SECONDS * 2  # idle: the server may have restarted meanwhile
    ping_when_idle(connection)

    assert pinged == [connection, connection]
