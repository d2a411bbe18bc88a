"""A business calendar as a JSON-able spec spells it: weekdays by name, wall times as "HH:MM",
holidays as "YYYY-MM-DD", country codes; read into the fields of a `BusinessCalendar` (calendar.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from typing import Any

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS_BY_NAME = {name: i for names in (WEEKDAY_NAMES, _FULL_WEEKDAY_NAMES) for i, name in enumerate(names)}
MIDNIGHT = time(0, 0)

SPEC_FIELDS = frozenset({"time_zone", "weekly", "holidays", "country", "subdivision"})
_WALL_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")

Interval = tuple[time, time]


def calendar_fields(spec: Mapping[str, object]) -> dict[str, Any]:
    """The fields of the calendar `spec` describes; raises ValueError naming the offending field."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"spec: expected an object, got {type(spec).__name__}")
    unknown = sorted(str(key) for key in spec if key not in SPEC_FIELDS)
    if unknown:
        raise ValueError(f"spec: unknown field(s) {unknown}; expected some of {sorted(SPEC_FIELDS)}")
    for required in ("time_zone", "weekly"):
        if required not in spec:
            raise ValueError(f"{required}: missing")
    time_zone = spec["time_zone"]
    if not isinstance(time_zone, str):
        raise ValueError(f"time_zone: expected an IANA name such as 'Europe/Berlin', got {time_zone!r}")
    return {
        "time_zone": time_zone,
        "weekly": _weekly_from_spec(spec["weekly"]),
        "holidays": _holidays_from_spec(spec.get("holidays", [])),
        "country": _optional_code(spec, "country"),
        "subdivision": _optional_code(spec, "subdivision"),
    }


def _weekly_from_spec(weekly: object) -> dict[int, tuple[Interval, ...]]:
    if not isinstance(weekly, Mapping):
        raise ValueError('weekly: expected an object such as {"mon": [["09:00", "17:00"]]}')
    result: dict[int, tuple[Interval, ...]] = {}
    for key, intervals in weekly.items():
        weekday = _WEEKDAYS_BY_NAME.get(key.lower()) if isinstance(key, str) else None
        if weekday is None:
            raise ValueError(f"weekly: unknown weekday {key!r} (expected one of {list(WEEKDAY_NAMES)})")
        name = f"weekly.{WEEKDAY_NAMES[weekday]}"
        if weekday in result:
            raise ValueError(f"{name}: given twice")
        if not isinstance(intervals, list | tuple):
            raise ValueError(f'{name}: expected a list of ["HH:MM", "HH:MM"] pairs, got {intervals!r}')
        parsed: list[Interval] = []
        for pair in intervals:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ValueError(f'{name}: expected a ["HH:MM", "HH:MM"] pair, got {pair!r}')
            parsed.append((_wall_time(pair[0], name, is_end=False), _wall_time(pair[1], name, is_end=True)))
        result[weekday] = tuple(parsed)
    return result


def _wall_time(text: object, name: str, *, is_end: bool) -> time:
    match = _WALL_TIME.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f'{name}: expected a time "HH:MM" or "HH:MM:SS", got {text!r}')
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if is_end and (hour, minute, second) == (24, 0, 0):
        return MIDNIGHT
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{name}: {text!r} is not a time of day" + (' ("24:00" is only an end)' if hour == 24 else ""))
    return time(hour, minute, second)


def _holidays_from_spec(dates: object) -> frozenset[date]:
    if not isinstance(dates, list | tuple):
        raise ValueError(f'holidays: expected a list of "YYYY-MM-DD" dates, got {dates!r}')
    result: set[date] = set()
    for text in dates:
        if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(f'holidays: expected a "YYYY-MM-DD" date, got {text!r}')
        try:
            result.add(date.fromisoformat(text))
        except ValueError as error:
            raise ValueError(f"holidays: {text!r} is not a date") from error
    return frozenset(result)


def _optional_code(spec: Mapping[str, object], name: str) -> str | None:
    value = spec.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}: expected a code such as {'DE' if name == 'country' else 'BE'!r}, got {value!r}")
    # Country codes are upper case; some subdivisions are names ("Augsburg"), so keep those as given.
    return value.strip().upper() if name == "country" else value.strip()
