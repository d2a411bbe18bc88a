"""Business time for SLA clocks: which instants count, and when a target of business seconds is spent.

A `BusinessCalendar` is a time zone, weekly opening hours in local wall-clock time, and the days it is
closed (fixed dates plus, optionally, a country's public holidays from the `holidays` library).

Conventions:

* Every interval is half-open, `[start, end)`, and lies within one local day. An `end` of `time(0, 0)`
  (spelled `"24:00"` or `"00:00"` in a spec) means midnight at the end of that day. A night shift is
  written as two intervals, e.g. Monday 22:00-24:00 and Tuesday 00:00-06:00; they join seamlessly.
* Each day's intervals are turned into UTC instants for that day, so an interval counts the real time
  that elapses in it: 00:00-06:00 in Europe/Berlin is 5 hours on the day clocks spring forward and
  7 hours on the day they fall back.
* A wall time is read with `fold=0` and normalised through UTC: an ambiguous time (in the hour that
  repeats when clocks fall back) is its first occurrence; a nonexistent time (in the hour skipped when
  clocks spring forward) is read with the offset in force before the gap, so it lands as far after the
  gap as it names into it (02:30 becomes 03:30 in Europe/Berlin). Should that make two intervals of a
  day overlap, the overlap counts once.
* A holiday closes the whole local date, whichever intervals it would have had.
* Inputs must be timezone-aware (any zone); every returned instant is aware UTC.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from holidays import country_holidays, list_supported_countries

from services.chassis.domain.calendar_spec import MIDNIGHT, WEEKDAY_NAMES, Interval, calendar_fields

# How far to look for business time before deciding a calendar has none (or, for `next_change`,
# that nothing changes any more, as in a 24x7 calendar).
SEARCH_LIMIT = timedelta(days=3 * 366)
DAYS_KEPT = 4096  # local days whose intervals a calendar keeps (then it starts afresh)


def _format_interval(interval: Interval) -> str:
    start, end = interval
    return f"{start.isoformat()}-{'24:00:00' if end == MIDNIGHT else end.isoformat()}"


def _as_utc(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours in a time zone, minus holidays. See the module docstring for the conventions."""

    time_zone: str
    weekly: dict[int, tuple[Interval, ...]]
    holidays: frozenset[date] = frozenset()
    country: str | None = None
    subdivision: str | None = None

    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _hours: tuple[tuple[Interval, ...], ...] = field(init=False, repr=False, compare=False)
    _public_holidays_by_year: dict[int, frozenset[date]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    # Each local day's intervals in UTC once computed: a clock asks about the same few days again and again.
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _always: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", _zone_named(self.time_zone))
        hours = _validated_hours(self.weekly)
        object.__setattr__(self, "_hours", hours)
        # Sorted, closed days left out, so that equal hours compare equal however they were written.
        object.__setattr__(self, "weekly", {weekday: hours[weekday] for weekday in range(7) if hours[weekday]})
        if self.subdivision is not None and self.country is None:
            raise ValueError(f"subdivision: {self.subdivision!r} needs a country")
        if self.country is not None:
            # Loading no year at all is cheap and tells whether the country and subdivision exist.
            self._load_public_holidays(years=[])
        # Open around the clock every day of the year: business time is the time that elapses.
        always = not self.holidays and self.country is None and all(h == ((MIDNIGHT, MIDNIGHT),) for h in hours)
        object.__setattr__(self, "_always", always)

    # -- construction ---------------------------------------------------------------

    @classmethod
    def always(cls) -> BusinessCalendar:
        """Every instant counts (24x7, no holidays)."""
        return cls("UTC", dict.fromkeys(range(7), ((MIDNIGHT, MIDNIGHT),)))

    @classmethod
    def from_spec(cls, spec: Mapping[str, object]) -> BusinessCalendar:
        """Read a JSON-able spec, e.g.

        `{"time_zone": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]]}, "holidays": ["2026-12-24"],
        "country": "DE", "subdivision": "BE"}`. Days missing from `weekly` are closed. Raises ValueError
        naming the offending field.
        """
        return cls(**calendar_fields(spec))

    # -- questions ------------------------------------------------------------------

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Business time in `[start, end)`, in seconds (microsecond precision)."""
        start_utc, end_utc = _as_utc(start, "start"), _as_utc(end, "end")
        if end_utc < start_utc:
            raise ValueError(f"end {end_utc.isoformat()} is before start {start_utc.isoformat()}")
        if self._always:
            return (end_utc - start_utc).total_seconds()
        total = timedelta()
        for opens, closes in self._intervals_from(start_utc, until=end_utc):
            total += min(closes, end_utc) - opens
        return total.total_seconds()

    def add_business_time(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant by which `seconds` of business time have elapsed since `start`.

        Outside hours, counting begins at the next opening; a target spent exactly at a closing is due
        at that closing, not at the next opening. Zero seconds returns `start` itself.
        """
        start_utc = _as_utc(start, "start")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        remaining = timedelta(seconds=seconds)
        if not remaining:
            return start_utc
        if self._always:
            return start_utc + remaining
        for opens, closes in self._intervals_from(start_utc):
            if closes - opens >= remaining:
                return opens + remaining
            remaining -= closes - opens
        raise ValueError(
            f"no business time within {SEARCH_LIMIT.days} days after {start_utc.isoformat()}: "
            "does the calendar have any opening hours?"
        )

    def is_open(self, at: datetime) -> bool:
        at_utc = _as_utc(at, "at")
        first = next(self._intervals_from(at_utc, until=at_utc + timedelta(days=2)), None)
        return first is not None and first[0] == at_utc

    def next_change(self, at: datetime) -> datetime | None:
        """The next instant after `at` at which the calendar opens or closes; None if there is none
        within the search limit (a 24x7 calendar, or one without hours)."""
        at_utc = _as_utc(at, "at")
        horizon = at_utc + SEARCH_LIMIT
        open_until: datetime | None = None
        for opens, closes in self._intervals_from(at_utc, until=horizon):
            if open_until is None:
                if opens > at_utc:
                    return opens
            elif opens > open_until:
                return open_until
            open_until = closes
        return open_until if open_until is not None and open_until < horizon else None

    # -- the walk -------------------------------------------------------------------

    def _intervals_from(self, start: datetime, until: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
        """Business intervals in UTC from `start` on, in order, clipped to `start` and never overlapping.

        Walks whole local days. With `until`, stops at the first interval that opens at or after it;
        without, stops once `SEARCH_LIMIT` has passed without any business time.
        """
        zone = self._zone
        # A day's intervals end by the next local midnight, so starting a day early misses nothing.
        day = start.astimezone(zone).date() - timedelta(days=1)
        last_day = None if until is None else until.astimezone(zone).date() + timedelta(days=1)
        covered_until = start
        while last_day is None or day <= last_day:
            for opens, closes in self._day_intervals(day):
                opens = max(opens, covered_until)
                if until is not None and opens >= until:
                    return
                if closes > opens:
                    yield opens, closes
                    covered_until = closes
            if until is None and self._to_utc(day, MIDNIGHT) - covered_until > SEARCH_LIMIT:
                return
            day += timedelta(days=1)

    def _day_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        if (known := self._days.get(day)) is not None:
            return known
        if self._is_holiday(day):
            intervals: tuple[tuple[datetime, datetime], ...] = ()
        else:
            next_day = day + timedelta(days=1)
            intervals = tuple(
                (self._to_utc(day, start), self._to_utc(next_day if end == MIDNIGHT else day, end))
                for start, end in self._hours[day.weekday()]
            )
        if len(self._days) >= DAYS_KEPT:
            self._days.clear()
        self._days[day] = intervals
        return intervals

    def _to_utc(self, day: date, wall: time) -> datetime:
        return datetime.combine(day, wall.replace(fold=0), tzinfo=self._zone).astimezone(UTC)

    def _is_holiday(self, day: date) -> bool:
        if day in self.holidays:
            return True
        if self.country is None:
            return False
        in_year = self._public_holidays_by_year.get(day.year)
        if in_year is None:
            in_year = frozenset(d for d in self._load_public_holidays(years=[day.year]) if d.year == day.year)
            self._public_holidays_by_year[day.year] = in_year
        return day in in_year

    def _load_public_holidays(self, years: list[int]) -> frozenset[date]:
        assert self.country is not None
        try:
            found = country_holidays(self.country, subdiv=self.subdivision, years=years)
        except NotImplementedError as error:
            if self.subdivision is not None and self.country in list_supported_countries():
                raise ValueError(
                    f"subdivision: {self.subdivision!r} is not a subdivision of {self.country!r} "
                    "known to the holidays library"
                ) from error
            raise ValueError(
                f"country: unknown country {self.country!r} (expected an ISO 3166-1 alpha-2 code)"
            ) from error
        return frozenset(found.keys())


def _zone_named(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValueError(f"time_zone: expected an IANA name such as 'Europe/Berlin', got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"time_zone: unknown time zone {name!r}") from error


def _microseconds_into_day(wall: time, *, is_end: bool) -> int:
    """How far into the day `wall` is; an end at 00:00 is the end of the day."""
    if is_end and wall == MIDNIGHT:
        return 86_400_000_000
    return ((wall.hour * 60 + wall.minute) * 60 + wall.second) * 1_000_000 + wall.microsecond


def _validated_hours(weekly: Mapping[int, tuple[Interval, ...]]) -> tuple[tuple[Interval, ...], ...]:
    """The week's intervals, sorted, indexed by weekday; raises ValueError on anything malformed."""
    if not isinstance(weekly, Mapping):
        raise ValueError(f"weekly: expected a mapping of weekday to intervals, got {type(weekly).__name__}")
    hours: list[tuple[Interval, ...]] = [() for _ in range(7)]
    for weekday, intervals in weekly.items():
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            raise ValueError(f"weekly: unknown weekday {weekday!r} (expected 0=Monday .. 6=Sunday)")
        name = f"weekly.{WEEKDAY_NAMES[weekday]}"
        if not isinstance(intervals, tuple | list):
            raise ValueError(f"{name}: expected a tuple of (start, end) intervals, got {intervals!r}")
        checked: list[Interval] = []
        for interval in intervals:
            if not (isinstance(interval, tuple) and len(interval) == 2 and all(isinstance(t, time) for t in interval)):
                raise ValueError(f"{name}: expected (start, end) times, got {interval!r}")
            start, end = interval[0].replace(fold=0), interval[1].replace(fold=0)
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError(f"{name}: times are local wall-clock times and carry no tzinfo")
            if _microseconds_into_day(end, is_end=True) <= _microseconds_into_day(start, is_end=False):
                raise ValueError(f"{name}: interval {_format_interval((start, end))} does not end after it starts")
            checked.append((start, end))
        checked.sort()
        for earlier, later in pairwise(checked):
            if _microseconds_into_day(earlier[1], is_end=True) > _microseconds_into_day(later[0], is_end=False):
                raise ValueError(f"{name}: intervals {_format_interval(earlier)} and {_format_interval(later)} overlap")
        hours[weekday] = tuple(checked)
    return tuple(hours)
