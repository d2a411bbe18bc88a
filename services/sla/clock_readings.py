"""What a clock reads of business time: how much each metric has used, when it falls due, and the earliest
instant the clock must act. Reading only: `Clock` (clock.py) records what happens.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from services.chassis.domain.calendar import BusinessCalendar
from services.sla.policies import calendar_of

RUNNING, PAUSED, MET, STOPPED = "running", "paused", "met", "stopped"
"""A metric's states."""


@lru_cache(maxsize=256)
def _calendar(spec_json: str) -> BusinessCalendar:
    spec = json.loads(spec_json)
    return calendar_of(spec)


_ALWAYS = calendar_of(None)  # a policy without a calendar counts every instant


class ClockReadings:
    """The reading half of `Clock`, over the state its events assign."""

    policy: dict[str, Any]
    metrics: dict[str, dict[str, Any]]
    pending: dict[str, Any] | None

    @property
    def calendar(self) -> BusinessCalendar:
        spec = self.policy.get("calendar_spec")
        return _ALWAYS if spec is None else _calendar(json.dumps(spec, sort_keys=True))

    @property
    def policy_id(self) -> str:
        policy_id: str = self.policy["policy_id"]
        return policy_id

    def used_at(self, metric: str, at: datetime) -> float:
        m = self.metrics[metric]
        since: datetime | None = m["since"]
        if m["state"] != RUNNING or since is None or at <= since:
            return float(m["used"])
        return float(m["used"]) + self.calendar.business_seconds(since, at)

    def instant_when(self, metric: str, used: float) -> datetime | None:
        """When the running `metric` will have used `used` business seconds (now counting from `since`)."""
        m = self.metrics[metric]
        if m["state"] != RUNNING or m["since"] is None:
            return None
        remaining = used - float(m["used"])
        return m["since"] if remaining <= 0 else self.calendar.add_business_time(m["since"], remaining)

    def due_of(self, metric: str, at: datetime) -> datetime:
        """When `metric` burns if it counts from `at` on (for a paused metric: were it resumed at `at`)."""
        m = self.metrics[metric]
        remaining = max(0.0, m["target"] - self.used_at(metric, at))
        return self.calendar.add_business_time(at, remaining)

    def next_due(self) -> datetime | None:
        """The earliest instant the clock must act: a warning, a breach, a reminder or the pending time's end."""
        instants: list[datetime] = []
        for metric, m in self.metrics.items():
            if m["state"] != RUNNING:
                continue
            for threshold in sorted(self.policy.get("warn_at", [])):
                if threshold not in m["warned"] and not m["breached"]:
                    instant = self.instant_when(metric, m["target"] * threshold / 100)
                    if instant is not None:
                        instants.append(instant)
                    break
            if not m["breached"] and (instant := self.instant_when(metric, m["target"])) is not None:
                instants.append(instant)
        if (reminder := self._next_reminder()) is not None:
            instants.append(reminder[0])
        return min(instants, default=None)

    def _next_reminder(self) -> tuple[datetime, int] | None:
        """(when, how many reminders sent by then) of the pending ticket's next reminder or end."""
        if self.pending is None:
            return None
        every = timedelta(seconds=self.policy.get("reminders", {}).get("every_seconds", 0))
        sent: int = self.pending["sent"]
        return self.pending["until"] + every * sent, sent
