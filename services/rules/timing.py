"""Time in a ticket's life for the rules: when each of its moments happened, and when a timed trigger falls
due. Pure, so the due-instant computation is unit-tested without a store or a clock.

A timed trigger answers `"when": ["time"]`, the passage of time, and carries one condition or more
`{"field": "hours_since", "of": <moment>, "op": "greater", "value": <hours>, "business_hours": false}`
("pending for more than 2 days": `of` status_changed, 48 hours, with `status is pending`). Its other
conditions are checked at the instant it falls due, on the facts then.

The moments (`ANCHORS`) are stamped into the facts as epoch seconds, from the instant the desk's event
occurred (the envelope's `occurred_at`, not when the rules service read it: a consumer that lags does not
push the deadline back). `replied_last` says who wrote the last public word ("customer" or "agent"), so
"without a reply" is a plain condition (`replied_last is_not agent`) that a reply makes false, dropping the
timer.

The due instant: every time condition must have passed for `match: all` (the latest of their instants), one
for `match: any` (the earliest). A moment that has not happened yet ("agent_replied" on a ticket nobody
answered) has no instant: under `all` the trigger cannot fall due until it happens. Under `all` the other
conditions must hold on the facts now too, else no timer is kept: a change that makes them hold again (an
event) schedules it again. A condition on a moment holds from its due instant on (`>=`: at the instant
itself the ticket has been pending for N hours, which is what the support team means by "more than").

Business hours (`business_hours: true`, `"calendar": "berlin"`): the condition's instant is the moment plus
so many hours of the calendar's business time (`BusinessCalendar.add_business_time`, the SLA service's own
code in services/chassis/domain/calendar.py), so "open for more than 4 business hours" set on Friday at 16:00
in a 9-to-17 calendar falls due on Monday at 12:00. The calendar's spec is the one stored with the trigger's
version (read from the SLA service when it was saved). A calendar with no hours at all never falls due.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from services.chassis.domain.calendar import BusinessCalendar

# The moments a time condition measures from: facts keys `<moment>_at` (epoch seconds).
ANCHORS = ("opened", "status_changed", "customer_replied", "agent_replied", "assigned")
TIME_FIELD = "hours_since"
TIME_WHEN = "time"
MAX_HOURS = 24 * 366


def anchor_key(moment: str) -> str:
    return f"{moment}_at"


def stamped(facts: dict[str, Any], changes: Mapping[str, str | None], at: datetime) -> dict[str, Any]:
    """`facts` with the moments `changes` names (moment -> the new `replied_last`, or None) stamped at `at`."""
    out = dict(facts)
    for moment, replied_by in changes.items():
        out[anchor_key(moment)] = at.timestamp()
        if replied_by is not None:
            out["replied_last"] = replied_by
    return out


def is_timed(spec: Mapping[str, Any]) -> bool:
    return TIME_WHEN in spec.get("when", ())


def due_epoch(spec: Mapping[str, Any], facts: Mapping[str, Any], others_hold: bool) -> float | None:
    """When the timed trigger `spec` falls due for a ticket with `facts` (epoch seconds), or None: not timed,
    a needed moment has not happened, or (match all) its other conditions do not hold now (`others_hold`)."""
    if not is_timed(spec):
        return None
    timed = [c for c in spec.get("if", ()) if c.get("field") == TIME_FIELD]
    found = [_instant(c, facts[anchor_key(c["of"])]) for c in timed if facts.get(anchor_key(c["of"])) is not None]
    instants = [i for i in found if i is not None]
    if spec.get("match", "all") == "all":
        if not others_hold or len(instants) != len(timed) or not instants:
            return None
        return float(max(instants))
    return float(min(instants)) if instants else None


def _instant(condition: Mapping[str, Any], moment: float) -> float | None:
    """When the time `condition` passes for a ticket whose moment was at `moment` (None: never)."""
    seconds = float(condition["value"]) * 3600.0
    if not condition.get("business_hours"):
        return moment + seconds
    try:
        return business_calendar(condition["calendar_spec"]).add_business_time(as_instant(moment), seconds).timestamp()
    except ValueError:  # no business time within years: the calendar has no hours
        return None


def business_calendar(spec: Mapping[str, Any]) -> BusinessCalendar:
    """The calendar `spec` describes (ValueError naming a wrong field); read once per spec."""
    return _calendar(json.dumps(spec, sort_keys=True))


@lru_cache(maxsize=256)
def _calendar(spec: str) -> BusinessCalendar:
    return BusinessCalendar.from_spec(json.loads(spec))


def business_seconds(spec: Mapping[str, Any], start: float, end: float) -> float:
    """Business time between two instants (epoch seconds) in the calendar `spec` describes; 0 if end is first."""
    return business_calendar(spec).business_seconds(as_instant(start), as_instant(max(start, end)))


def as_instant(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
