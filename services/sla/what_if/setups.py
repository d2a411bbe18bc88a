"""The tenant's SLA setup as it was at each instant of a window, from SLA's own store (each change is an
event with its instant)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from services.sla.application import Sla
from services.sla.policies import SlaSetup


class SetupHistory:
    """Every version of a tenant's setup, each from the instant it was recorded on.

    An instant before the first version (history published with older instants than the setup, e.g.
    tickets imported or back-filled) reads the newest version: the live service judged those tickets when
    it read them, after the setup was made, and which version it found then the setup's history cannot say."""

    def __init__(self, versions: list[tuple[datetime, SlaSetup]]) -> None:
        self.instants = [instant for instant, _ in versions]
        self.setups = [setup for _, setup in versions]

    @classmethod
    def of(cls, sla: Sla, tenant: str) -> SetupHistory:
        versions: list[tuple[datetime, SlaSetup]] = []
        setup: Any = None
        for stored in sla.events.get(SlaSetup.create_id(tenant)):
            event: Any = stored
            setup = event.mutate(setup)
            versions.append((event.timestamp, deepcopy(setup)))
        return cls(versions)

    def at(self, instant: datetime) -> SlaSetup | None:
        if not self.setups:
            return None
        return self.setups[bisect_right(self.instants, instant) - 1]  # before the first: -1, the newest

    def newest(self) -> SlaSetup | None:
        return self.setups[-1] if self.setups else None

    def changed(self, change: Callable[[SlaSetup | None], SlaSetup]) -> SetupHistory:
        """Every version changed alike (e.g. with a candidate's policies); no setup at all becomes one."""
        if not self.setups:
            return SetupHistory([(datetime.min.replace(tzinfo=UTC), change(None))])
        return SetupHistory([(i, change(s)) for i, s in zip(self.instants, self.setups, strict=True)])
