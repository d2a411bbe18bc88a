"""Business time for SLA clocks, with expected instants worked out by hand (in UTC, local time noted).

Offsets in 2026: Europe/Berlin is UTC+1 (CET) until 2026-03-29 02:00 and from 2026-10-25 03:00, UTC+2 (CEST)
between; America/New_York is UTC-5 (EST) until 2026-03-08 02:00 and from 2026-11-01 02:00, UTC-4 (EDT) between.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from holidays import country_holidays
from hypothesis import given, settings
from hypothesis import strategies as st

import services.chassis.domain.calendar as calendar_module
from services.chassis.domain.calendar import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600.0
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)


def new_york(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NEW_YORK)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def office(**extra: Any) -> BusinessCalendar:
    """Berlin, Monday to Friday 09:00-17:00, unless `extra` says otherwise."""
    spec: dict[str, Any] = {"time_zone": "Europe/Berlin", "weekly": {day: [["09:00", "17:00"]] for day in WORKDAYS}}
    return BusinessCalendar.from_spec(spec | extra)


def every_day(
    time_zone: str, start: str, end: str, days: tuple[str, ...] = (*WORKDAYS, "sat", "sun")
) -> BusinessCalendar:
    """The same hours on each of `days` (every day of the week by default)."""
    return BusinessCalendar.from_spec({"time_zone": time_zone, "weekly": {day: [[start, end]] for day in days}})


# -- weekends, opening hours, closing ---------------------------------------------------


def test_a_ticket_opened_on_friday_evening_is_due_on_monday() -> None:
    # Fri 2026-02-13 18:00 CET is after hours; 4 h from Mon 09:00 CET is Mon 13:00 CET = 12:00 UTC.
    assert office().add_business_time(berlin(2026, 2, 13, 18), 4 * HOUR) == utc(2026, 2, 16, 12)


def test_a_ticket_opened_on_friday_afternoon_carries_the_rest_over_the_weekend() -> None:
    # 2 h on Friday (15:00-17:00), 2 h on Monday (09:00-11:00 CET = 10:00 UTC).
    calendar = office()
    assert calendar.add_business_time(berlin(2026, 2, 13, 15), 4 * HOUR) == utc(2026, 2, 16, 10)
    assert calendar.business_seconds(berlin(2026, 2, 13, 15), berlin(2026, 2, 16, 11)) == 4 * HOUR


def test_a_ticket_opened_before_opening_starts_counting_at_opening() -> None:
    calendar = office()
    # Mon 07:30 CET: counting starts at 09:00, so 1 h is due at 10:00 CET = 09:00 UTC.
    assert calendar.add_business_time(berlin(2026, 2, 16, 7, 30), HOUR) == utc(2026, 2, 16, 9)
    # Sunday noon: 30 min after Monday's opening, 09:30 CET = 08:30 UTC.
    assert calendar.add_business_time(berlin(2026, 2, 15, 12), 1800) == utc(2026, 2, 16, 8, 30)


def test_a_target_spent_exactly_at_closing_is_due_at_closing_not_at_the_next_opening() -> None:
    assert office().add_business_time(berlin(2026, 2, 16, 9), 8 * HOUR) == utc(2026, 2, 16, 16)


def test_a_week_of_office_hours_is_forty_hours() -> None:
    assert office().business_seconds(berlin(2026, 2, 16), berlin(2026, 2, 23)) == 40 * HOUR


def test_a_zero_target_is_due_at_once_and_a_negative_one_is_refused() -> None:
    assert office().add_business_time(berlin(2026, 2, 14, 12), 0) == utc(2026, 2, 14, 11)
    with pytest.raises(ValueError, match="seconds"):
        office().add_business_time(berlin(2026, 2, 14, 12), -1)


def test_targets_are_exact_to_the_second() -> None:
    # 1 s short of the whole Monday, from Mon 09:00 CET: Mon 16:59:59 CET.
    assert office().add_business_time(berlin(2026, 2, 16, 9), 8 * HOUR - 1) == utc(2026, 2, 16, 15, 59, 59)


# -- holidays -----------------------------------------------------------------------------


def test_a_fixed_holiday_closes_the_desk_for_the_day() -> None:
    # Monday 2026-02-16 is closed, so Friday evening's 4 h are due on Tuesday 13:00 CET.
    calendar = office(holidays=["2026-02-16"])
    assert calendar.add_business_time(berlin(2026, 2, 13, 18), 4 * HOUR) == utc(2026, 2, 17, 12)


def test_german_christmas_comes_from_the_holidays_library() -> None:
    # Thu 2026-12-24 is a working day in Berlin: 1 h (16:00-17:00). Fri 25th is a public holiday,
    # then the weekend; Monday 28th gives the other 7 h: 16:00 CET = 15:00 UTC.
    german = office(country="DE", subdivision="BE")
    assert german.add_business_time(berlin(2026, 12, 24, 16), 8 * HOUR) == utc(2026, 12, 28, 15)
    # Without the country, Friday 25th is an ordinary day.
    assert office().add_business_time(berlin(2026, 12, 24, 16), 8 * HOUR) == utc(2026, 12, 25, 15)
    # Christmas week: Monday to Thursday only.
    assert german.business_seconds(berlin(2026, 12, 21), berlin(2026, 12, 28)) == 32 * HOUR


def test_easter_closes_good_friday_and_easter_monday_in_germany() -> None:
    # Thu 2026-04-02 17:00 CEST is closing time; Fri 3rd and Mon 6th are holidays, so 8 h take all of
    # Tuesday 7th: due 17:00 CEST = 15:00 UTC.
    german = office(country="DE")
    assert german.add_business_time(berlin(2026, 4, 2, 17), 8 * HOUR) == utc(2026, 4, 7, 15)


def test_public_holidays_are_looked_up_once_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    years_looked_up: list[object] = []

    def counting(country: str, subdiv: str | None = None, years: Any = None) -> Any:
        years_looked_up.append(years)
        return country_holidays(country, subdiv=subdiv, years=years)

    monkeypatch.setattr(calendar_module, "country_holidays", counting)
    german = office(country="DE", subdivision="BE")
    for _ in range(3):
        german.business_seconds(berlin(2026, 12, 1), berlin(2027, 1, 15))
    assert years_looked_up == [[], [2026], [2027]]


# -- split days ---------------------------------------------------------------------------


def test_a_lunch_break_does_not_count() -> None:
    calendar = BusinessCalendar.from_spec(
        {"time_zone": "Europe/Berlin", "weekly": {day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in WORKDAYS}}
    )
    assert calendar.business_seconds(berlin(2026, 2, 16, 9), berlin(2026, 2, 16, 17)) == 7 * HOUR
    # From 11:00: 1 h before lunch, 1 h after, due 14:00 CET = 13:00 UTC.
    assert calendar.add_business_time(berlin(2026, 2, 16, 11), 2 * HOUR) == utc(2026, 2, 16, 13)
    # Opened during lunch: counting starts at 13:00.
    assert calendar.add_business_time(berlin(2026, 2, 16, 12, 30), 1800) == utc(2026, 2, 16, 12, 30)
    assert not calendar.is_open(berlin(2026, 2, 16, 12, 30))
    assert calendar.next_change(berlin(2026, 2, 16, 12, 30)) == utc(2026, 2, 16, 12)


def test_a_night_shift_runs_through_midnight() -> None:
    calendar = BusinessCalendar.from_spec(
        {"time_zone": "Europe/Berlin", "weekly": {"mon": [["22:00", "24:00"]], "tue": [["00:00", "06:00"]]}}
    )
    # Mon 23:00 CET + 2 h is Tue 01:00 CET = 00:00 UTC, and the shift closes at Tue 06:00, not at midnight.
    assert calendar.add_business_time(berlin(2026, 2, 16, 23), 2 * HOUR) == utc(2026, 2, 17)
    assert calendar.next_change(berlin(2026, 2, 16, 23)) == utc(2026, 2, 17, 5)
    assert calendar.business_seconds(berlin(2026, 2, 16), berlin(2026, 2, 18)) == 8 * HOUR


# -- pause and resume ---------------------------------------------------------------------


def test_a_clock_paused_overnight_counts_only_its_running_spans() -> None:
    calendar = office()
    # Runs Mon 15:00-16:30 (1.5 h), waits on the customer until Tue 10:00, runs to 11:00 (1 h).
    used = calendar.business_seconds(berlin(2026, 2, 16, 15), berlin(2026, 2, 16, 16, 30)) + calendar.business_seconds(
        berlin(2026, 2, 17, 10), berlin(2026, 2, 17, 11)
    )
    assert used == 2.5 * HOUR
    assert calendar.business_seconds(berlin(2026, 2, 16, 15), berlin(2026, 2, 17, 11)) == 4 * HOUR
    # The rest of a 4 h target, from Tue 11:00 CET: 1.5 h, due 12:30 CET = 11:30 UTC.
    assert calendar.add_business_time(berlin(2026, 2, 17, 11), 4 * HOUR - used) == utc(2026, 2, 17, 11, 30)


# -- daylight saving time -----------------------------------------------------------------


def test_an_eight_hour_target_across_berlins_spring_change() -> None:
    # Fri 2026-03-27 13:00 CET (12:00 UTC): 4 h on Friday; Monday opens 09:00 CEST = 07:00 UTC, +4 h.
    calendar = office()
    assert calendar.add_business_time(berlin(2026, 3, 27, 13), 8 * HOUR) == utc(2026, 3, 30, 11)
    assert calendar.business_seconds(utc(2026, 3, 27, 12), utc(2026, 3, 30, 11)) == 8 * HOUR


def test_an_eight_hour_target_across_berlins_autumn_change() -> None:
    # Fri 2026-10-23 13:00 CEST (11:00 UTC): 4 h on Friday; Monday opens 09:00 CET = 08:00 UTC, +4 h.
    assert office().add_business_time(berlin(2026, 10, 23, 13), 8 * HOUR) == utc(2026, 10, 26, 12)


def test_night_hours_count_real_time_on_the_days_clocks_change() -> None:
    nights = every_day("Europe/Berlin", "00:00", "06:00")
    # Spring forward: 00:00 CET (23:00 UTC) to 06:00 CEST (04:00 UTC) is 5 h.
    assert nights.business_seconds(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 5 * HOUR
    # Fall back: 00:00 CEST (22:00 UTC) to 06:00 CET (05:00 UTC) is 7 h.
    assert nights.business_seconds(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 7 * HOUR
    # 4 h from midnight on the spring day: 03:00 UTC, which the wall clock shows as 05:00 CEST.
    assert nights.add_business_time(berlin(2026, 3, 29), 4 * HOUR) == utc(2026, 3, 29, 3)


def test_a_round_the_clock_new_york_desk_has_a_23_and_a_25_hour_day() -> None:
    desk = every_day("America/New_York", "00:00", "24:00")
    assert desk.business_seconds(new_york(2026, 3, 8), new_york(2026, 3, 9)) == 23 * HOUR
    assert desk.business_seconds(new_york(2026, 11, 1), new_york(2026, 11, 2)) == 25 * HOUR
    # Sat 22:00 EST (Sun 03:00 UTC) + 8 h = Sun 11:00 UTC, 07:00 EDT on the wall clock.
    assert desk.add_business_time(new_york(2026, 3, 7, 22), 8 * HOUR) == utc(2026, 3, 8, 11)
    # A round-the-clock local calendar never closes, not even at midnight or a change of offset.
    assert desk.next_change(new_york(2026, 3, 7, 22)) is None


def test_an_eight_hour_target_across_new_yorks_changes_on_a_weekend_on_call_rota() -> None:
    on_call = every_day("America/New_York", "00:00", "06:00", days=("sat", "sun"))
    # Sat 2026-03-07 02:00 EST (07:00 UTC): 4 h to 06:00 EST; Sun 00:00 EST (05:00 UTC) + 4 h real time
    # = 09:00 UTC, 05:00 EDT on the wall clock.
    assert on_call.add_business_time(new_york(2026, 3, 7, 2), 8 * HOUR) == utc(2026, 3, 8, 9)
    # Sat 2026-10-31 02:00 EDT (06:00 UTC): 4 h to 06:00 EDT; Sun 00:00 EDT (04:00 UTC) + 4 h real time
    # = 08:00 UTC, 03:00 EST on the wall clock.
    assert on_call.add_business_time(new_york(2026, 10, 31, 2), 8 * HOUR) == utc(2026, 11, 1, 8)


def test_a_24x7_calendar_counts_real_hours_across_a_change() -> None:
    always = BusinessCalendar.always()
    # Berlin midnight (CET) to noon (CEST) on the spring day is 11 real hours.
    assert always.business_seconds(berlin(2026, 3, 29), berlin(2026, 3, 29, 12)) == 11 * HOUR
    # 24 h from midnight CEST (22:00 UTC on the 24th) on the autumn day is 23:00 CET on the wall clock.
    due = always.add_business_time(berlin(2026, 10, 25), 24 * HOUR)
    assert due == utc(2026, 10, 25, 22)
    assert due.astimezone(BERLIN).hour == 23
    assert always.is_open(berlin(2026, 3, 29, 2, 30))
    assert always.next_change(utc(2026, 1, 1)) is None


def test_wall_times_the_clock_skips_or_repeats_follow_the_fold_zero_rule() -> None:
    skipped = every_day("Europe/Berlin", "02:30", "04:00", days=("sun",))
    # 02:30 does not exist on 2026-03-29: read with CET it is 01:30 UTC (03:30 CEST); 04:00 CEST is 02:00 UTC.
    assert skipped.business_seconds(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 0.5 * HOUR
    repeated = every_day("Europe/Berlin", "02:30", "03:00", days=("sun",))
    # 02:30 happens twice on 2026-10-25: the first (CEST, 00:30 UTC) counts; 03:00 CET is 02:00 UTC.
    assert repeated.business_seconds(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 1.5 * HOUR


# -- instants in and out ------------------------------------------------------------------


def test_answers_are_utc_whatever_zone_the_question_was_asked_in() -> None:
    due = office().add_business_time(new_york(2026, 2, 13, 12), 4 * HOUR)
    # Noon EST is 18:00 CET, after hours: due Monday 13:00 CET.
    assert due == utc(2026, 2, 16, 12)
    assert due.tzinfo is UTC


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        office().add_business_time(datetime(2026, 2, 16, 9), HOUR)
    with pytest.raises(ValueError, match="timezone-aware"):
        office().business_seconds(utc(2026, 2, 16, 9), datetime(2026, 2, 16, 10))


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(ValueError, match="before start"):
        office().business_seconds(utc(2026, 2, 16, 10), utc(2026, 2, 16, 9))


def test_a_calendar_without_hours_never_spends_a_target() -> None:
    closed = BusinessCalendar("Europe/Berlin", {})
    assert closed.business_seconds(utc(2026, 1, 1), utc(2027, 1, 1)) == 0
    assert closed.next_change(utc(2026, 1, 1)) is None
    with pytest.raises(ValueError, match="no business time"):
        closed.add_business_time(utc(2026, 1, 1), 1)


def test_is_open_and_next_change_around_a_weekend() -> None:
    calendar = office()
    assert calendar.is_open(berlin(2026, 2, 13, 16))
    assert calendar.next_change(berlin(2026, 2, 13, 16)) == utc(2026, 2, 13, 16)
    assert not calendar.is_open(berlin(2026, 2, 13, 17))
    assert calendar.next_change(berlin(2026, 2, 13, 17)) == utc(2026, 2, 16, 8)
    assert calendar.is_open(berlin(2026, 2, 16, 9))


# -- specs --------------------------------------------------------------------------------


def test_a_spec_reads_into_the_calendar_it_describes() -> None:
    spec = {
        "time_zone": "Europe/Berlin",
        "weekly": {"mon": [["13:00", "17:00"], ["09:00", "12:00"]], "Saturday": [["20:00", "24:00"]]},
        "holidays": ["2026-12-24"],
        "country": "de",
        "subdivision": "BE",
    }
    expected = BusinessCalendar(
        "Europe/Berlin",
        {0: ((time(9), time(12)), (time(13), time(17))), 5: ((time(20), time(0)),)},
        frozenset({date(2026, 12, 24)}),
        "DE",
        "BE",
    )
    assert BusinessCalendar.from_spec(spec) == expected


BASE_SPEC: dict[str, Any] = {"time_zone": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]]}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weekly": {"fry": [["09:00", "17:00"]]}}, r"^weekly: unknown weekday 'fry'"),
        ({"weekly": {"mon": [["17:00", "09:00"]]}}, r"^weekly\.mon: interval 17:00:00-09:00:00 does not end after"),
        ({"weekly": {"mon": [["09:00", "09:00"]]}}, r"^weekly\.mon: .* does not end after it starts"),
        ({"weekly": {"tue": [["09:00", "13:00"], ["12:00", "17:00"]]}}, r"^weekly\.tue: intervals .* overlap"),
        ({"weekly": {"mon": [["9am", "17:00"]]}}, r"^weekly\.mon: expected a time"),
        ({"weekly": {"mon": [["24:00", "24:00"]]}}, r"^weekly\.mon: '24:00' is not a time of day"),
        ({"weekly": [["09:00", "17:00"]]}, r"^weekly: expected an object"),
        ({"time_zone": "Mars/Olympus_Mons"}, r"^time_zone: unknown time zone 'Mars/Olympus_Mons'"),
        ({"time_zone": 1}, r"^time_zone: expected an IANA name"),
        ({"holidays": ["24.12.2026"]}, r"^holidays: expected a \"YYYY-MM-DD\" date"),
        ({"holidays": ["2026-02-30"]}, r"^holidays: '2026-02-30' is not a date"),
        ({"country": "XX"}, r"^country: unknown country 'XX'"),
        ({"country": "DE", "subdivision": "ZZ"}, r"^subdivision: 'ZZ' is not a subdivision of 'DE'"),
        ({"subdivision": "BE"}, r"^subdivision: 'BE' needs a country"),
        ({"timezone": "UTC"}, r"^spec: unknown field\(s\) \['timezone'\]"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_spec(BASE_SPEC | change)


def test_a_spec_without_weekly_hours_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^weekly: missing"):
        BusinessCalendar.from_spec({"time_zone": "UTC"})


def test_a_calendar_built_directly_is_checked_too() -> None:
    with pytest.raises(ValueError, match=r"^weekly: unknown weekday 7"):
        BusinessCalendar("UTC", {7: ((time(9), time(17)),)})
    with pytest.raises(ValueError, match=r"^weekly\.sun: intervals .* overlap"):
        BusinessCalendar("UTC", {6: ((time(9), time(0)), (time(10), time(11)))})


# -- against a minute-by-minute reference -------------------------------------------------

# Quarter hours of the day as interval boundaries, 96 meaning 24:00. Boundaries strictly inside the
# hours 01:00-03:00 are left out: there the clocks skip or repeat in Berlin and New York, and the fold=0
# rule (tested by hand above) deliberately differs from "the wall clock reads inside the interval".
BOUNDARIES = [q for q in range(97) if not (4 < q < 12 and q % 4)]
ZONES = ["UTC", "Europe/Berlin", "America/New_York"]
# UTC midnights shortly before each 2026 change of offset in Berlin and New York, and Christmas.
ANCHORS = [utc(2026, 3, 6), utc(2026, 3, 27), utc(2026, 10, 23), utc(2026, 10, 30), utc(2026, 12, 23)]
GERMAN_BERLIN_HOLIDAYS = frozenset(country_holidays("DE", subdiv="BE", years=[2026, 2027]))
MINUTE = timedelta(minutes=1)
REFERENCE_REACH = timedelta(days=10)


def boundary_time(quarter: int) -> time:
    return time(0) if quarter == 96 else time(quarter // 4, quarter % 4 * 15)


def minute_of_day(wall: time, *, is_end: bool) -> int:
    return 1440 if is_end and wall == time(0) else wall.hour * 60 + wall.minute


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    weekly: dict[int, tuple[tuple[time, time], ...]] = {}
    for weekday in range(7):
        quarters = sorted(draw(st.lists(st.sampled_from(BOUNDARIES), unique=True, max_size=6)))
        pairs = list(zip(quarters[::2], quarters[1::2], strict=False))
        weekly[weekday] = tuple((boundary_time(start), boundary_time(end)) for start, end in pairs)
    fixed = draw(st.frozensets(st.sampled_from([a.date() + timedelta(days=n) for a in ANCHORS for n in range(5)])))
    german = draw(st.booleans())
    return BusinessCalendar(
        draw(st.sampled_from(ZONES)),
        weekly,
        fixed,
        "DE" if german else None,
        "BE" if german else None,
    )


def instants() -> st.SearchStrategy[datetime]:
    return st.builds(lambda anchor, minutes: anchor + minutes * MINUTE, st.sampled_from(ANCHORS), st.integers(0, 4320))


def reference_is_open(calendar: BusinessCalendar, minute: datetime) -> bool:
    """Whether the local wall clock, during this minute, reads inside the opening hours of a working day."""
    local = minute.astimezone(ZoneInfo(calendar.time_zone))
    day = local.date()
    if day in calendar.holidays or (calendar.country is not None and day in GERMAN_BERLIN_HOLIDAYS):
        return False
    now = local.hour * 60 + local.minute
    return any(
        minute_of_day(start, is_end=False) <= now < minute_of_day(end, is_end=True)
        for start, end in calendar.weekly.get(day.weekday(), ())
    )


@settings(max_examples=150, deadline=None)
@given(calendars(), instants(), st.integers(0, 4320))
def test_business_seconds_agree_with_counting_minutes(calendar: BusinessCalendar, start: datetime, span: int) -> None:
    minutes = (start + n * MINUTE for n in range(span))
    expected = sum(60 for minute in minutes if reference_is_open(calendar, minute))
    assert calendar.business_seconds(start, start + span * MINUTE) == expected


@settings(max_examples=150, deadline=None)
@given(calendars(), instants(), st.integers(0, 1440))
def test_add_business_time_agrees_with_counting_minutes(
    calendar: BusinessCalendar, start: datetime, target: int
) -> None:
    has_hours = any(calendar.weekly.values())
    if target and not has_hours:
        with pytest.raises(ValueError, match="no business time"):
            calendar.add_business_time(start, target * 60)
        return
    due = calendar.add_business_time(start, target * 60)
    counted, minute = 0, start
    while counted < target and minute < start + REFERENCE_REACH:
        counted += reference_is_open(calendar, minute)
        minute += MINUTE
    if counted == target:
        assert due == minute
    else:  # a sparse calendar: the reference gave up, but the answer must still be consistent
        assert due > start + REFERENCE_REACH
        assert calendar.business_seconds(start, due) == target * 60


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
    seconds=st.floats(min_value=0, max_value=40 * 86400),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
)
def test_a_calendar_open_around_the_clock_counts_as_the_walk_over_its_days_does(
    start: datetime, seconds: float, zone: str
) -> None:
    days = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    always = BusinessCalendar.from_spec({"time_zone": zone, "weekly": days})
    walked = BusinessCalendar.from_spec({"time_zone": zone, "weekly": days, "holidays": ["1999-01-01"]})
    due = always.add_business_time(start, seconds)
    assert due == walked.add_business_time(start, seconds)
    assert always.business_seconds(start, due) == walked.business_seconds(start, due)
