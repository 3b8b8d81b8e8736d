"""Schedules: weekly windows in the policy's zone, overnight windows, holidays and daylight saving.

An admin writes "08:30" and means 08:30 on the office clock, in winter and in summer, and expects
a night window to belong to the evening it starts on."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy_addons.policy import load_text
from proxy_addons.policy.schedules import Holidays, Schedule, Window, parse_days, parse_time

AMS = ZoneInfo("Europe/Amsterdam")
SPRING = dt.date(2026, 3, 29)  # last Sunday of March: 02:00 CET -> 03:00 CEST
AUTUMN = dt.date(2026, 10, 25)  # last Sunday of October: 03:00 CEST -> 02:00 CET
WEEKDAYS = frozenset(range(5))


def at(*args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS, fold=fold)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def schedule(*windows: Window, holidays: Holidays | None = None) -> Schedule:
    return Schedule("s", windows, AMS, holidays or Holidays())


def brute_force_change(s: Schedule, start: dt.datetime, limit_minutes: int) -> dt.datetime | None:
    """The first whole UTC minute after `start` at which the schedule's state differs (all window
    edges and DST changes fall on whole minutes)."""
    state = s.active_local(start.astimezone(AMS))
    minute = start.astimezone(dt.UTC).replace(second=0, microsecond=0)
    for _ in range(limit_minutes):
        minute += dt.timedelta(minutes=1)
        if s.active_local(minute.astimezone(AMS)) != state:
            return minute
    return None


def test_parse_days_and_times() -> None:
    assert parse_days("mon-fri") == WEEKDAYS
    assert parse_days(["sat", "sun"]) == {5, 6}
    assert parse_days("fri-mon") == {4, 5, 6, 0}
    assert parse_days("Monday, wed-thu") == {0, 2, 3}
    assert parse_time("08:30") == 510
    assert parse_time("24:00", allow_24=True) == 1440
    for bad in ("24:00", "8.30", "25:00", "12:60", "noon", "123:00"):
        with pytest.raises(ValueError):
            parse_time(bad)
    with pytest.raises(ValueError, match="unknown day"):
        parse_days("mon-fry")


def test_office_hours_stay_on_the_office_clock_across_dst() -> None:
    s = schedule(Window(WEEKDAYS, 510, 1050))
    # 07:45 UTC is 08:45 in winter (open) ... and 09:45 in summer; 07:15 UTC is 08:15 CET (closed)
    assert not s.active(utc(2026, 3, 27, 7, 15))  # Friday before: CET
    assert s.active(utc(2026, 3, 30, 7, 15))  # Monday after: 09:15 CEST
    assert s.state(utc(2026, 3, 27, 7, 0)) == (False, at(2026, 3, 27, 8, 30))
    assert s.state(at(2026, 3, 27, 17, 0)) == (True, at(2026, 3, 27, 17, 30))
    # the weekend spans the change: Friday 17:30 CET -> Monday 08:30 CEST
    active, change = s.state(at(2026, 3, 27, 18, 0))
    assert not active and change == at(2026, 3, 30, 8, 30)
    assert change.astimezone(dt.UTC) == utc(2026, 3, 30, 6, 30)
    active, change = s.state(at(2026, 10, 23, 18, 0))
    assert change.astimezone(dt.UTC) == utc(2026, 10, 26, 7, 30)


def test_window_edge_inside_the_spring_gap() -> None:
    # 02:30 does not exist on SPRING: the window opens when the clock jumps to 03:00
    s = schedule(Window(frozenset({6}), 150, 300))
    assert s.state(at(2026, 3, 28, 22)) == (False, at(2026, 3, 29, 3, 0))
    assert s.active(utc(2026, 3, 29, 1, 0)) and not s.active(utc(2026, 3, 29, 0, 59))
    assert s.state(utc(2026, 3, 29, 1, 10)) == (True, at(2026, 3, 29, 5, 0))


def test_window_edge_inside_the_autumn_repeat() -> None:
    # 02:30-05:00 on AUTUMN: opens at 02:30 CEST, closes when 03:00 CEST becomes 02:00 CET, opens again
    # at 02:30 CET
    s = schedule(Window(frozenset({6}), 150, 300))
    expected = [(utc(2026, 10, 24, 20), False, utc(2026, 10, 25, 0, 30)),
                (utc(2026, 10, 25, 0, 30), True, utc(2026, 10, 25, 1, 0)),
                (utc(2026, 10, 25, 1, 0), False, utc(2026, 10, 25, 1, 30)),
                (utc(2026, 10, 25, 1, 30), True, utc(2026, 10, 25, 4, 0))]
    for moment, active, change in expected:
        got_active, got_change = s.state(moment)
        assert (got_active, got_change.astimezone(dt.UTC)) == (active, change), moment


def test_overnight_window_belongs_to_the_evening_it_starts() -> None:
    s = schedule(Window(WEEKDAYS, 22 * 60, 6 * 60))  # mon-fri 22:00-06:00
    assert s.active(at(2026, 11, 27, 23))  # Friday night
    assert s.active(at(2026, 11, 28, 5, 59))  # ... into Saturday morning
    assert not s.active(at(2026, 11, 28, 23))  # Saturday night is not in mon-fri
    assert not s.active(at(2026, 11, 23, 3))  # Monday 03:00 belongs to Sunday night
    assert s.active(at(2026, 11, 23, 22))
    assert s.state(at(2026, 11, 27, 23)) == (True, at(2026, 11, 28, 6, 0))
    # `to` equal to `from` is a whole day from that time
    whole = schedule(Window(frozenset({0}), 600, 600))
    assert whole.active(at(2026, 11, 24, 9, 59)) and not whole.active(at(2026, 11, 24, 10, 0))


def test_overnight_across_both_dst_nights() -> None:
    s = schedule(Window(frozenset({5}), 22 * 60, 6 * 60))  # Saturday 22:00 - Sunday 06:00
    # spring: 8 hours on the wall clock, 7 real hours
    assert s.state(at(2026, 3, 28, 22)) == (True, at(2026, 3, 29, 6, 0))
    assert s.active(utc(2026, 3, 29, 3, 59)) and not s.active(utc(2026, 3, 29, 4, 0))
    # autumn: 9 real hours
    assert s.active(utc(2026, 10, 25, 4, 59)) and not s.active(utc(2026, 10, 25, 5, 0))


def test_holidays_public_company_and_include() -> None:
    holidays = Holidays("NL", None, [dt.date(2026, 12, 24)])
    assert dt.date(2026, 12, 25) in holidays
    assert holidays.name(dt.date(2026, 12, 24)) == "company day off"
    assert dt.date(2026, 12, 23) not in holidays
    work = schedule(Window(WEEKDAYS, 510, 1050), holidays=holidays)
    assert work.active(at(2026, 12, 23, 10))
    assert not work.active(at(2026, 12, 24, 10))  # company day off (Thursday)
    assert not work.active(at(2026, 12, 25, 10))  # Christmas (Friday)
    assert not work.active(at(2026, 4, 27, 10))  # King's Day, a Monday in 2026
    # the next change from the day before Christmas Eve skips both days and the weekend
    assert work.state(at(2026, 12, 23, 18)) == (False, at(2026, 12, 28, 8, 30))
    night = schedule(Window(WEEKDAYS, 22 * 60, 6 * 60), holidays=holidays)
    assert not night.active(at(2026, 12, 24, 23)) and not night.active(at(2026, 12, 25, 3))
    assert night.active(at(2026, 12, 23, 23)) and night.active(at(2026, 12, 24, 3))  # began the evening before
    always = schedule(Window(WEEKDAYS, 22 * 60, 6 * 60, include_holidays=True), holidays=holidays)
    assert always.active(at(2026, 12, 24, 23)) and always.active(at(2026, 12, 25, 3))


def test_holidays_from_a_policy_with_include() -> None:
    policy = load_text("""
version: 1
timezone: Europe/Amsterdam
holidays: {country: NL, dates: [2026-12-31]}
schedules:
  office: [{days: mon-fri, from: "09:00", to: "17:00"}]
  night: [{days: mon-sun, from: "22:00", to: "06:00", holidays: include}]
categories: {social: {domains: [facebook.com]}}
rules:
  - {name: night block, categories: [social], when: night, action: block}
  - {name: office block, categories: [social], when: office, action: block}
""", "h.yaml")
    office, night = policy.schedules["office"], policy.schedules["night"]
    assert not office.active(at(2026, 12, 31, 10)) and office.active(at(2026, 12, 30, 10))
    assert night.active(at(2026, 12, 31, 23)) and night.active(at(2026, 12, 25, 23))


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([SPRING, AUTUMN, dt.date(2026, 12, 23), dt.date(2026, 11, 26)]),
    st.integers(-36 * 60, 36 * 60),
    st.lists(st.tuples(st.frozensets(st.integers(0, 6), min_size=1), st.sampled_from(
        [0, 60, 120, 150, 180, 510, 720, 1050, 1320]), st.sampled_from([60, 120, 150, 180, 300, 780, 1050, 1440]),
        st.booleans()), min_size=1, max_size=3),
)
def test_next_change_is_exactly_the_first_minute_the_state_differs(day: dt.date, offset: int,
                                                                     windows: list) -> None:
    s = schedule(*(Window(d, a, b, inc) for d, a, b, inc in windows),
                 holidays=Holidays("NL", None, [dt.date(2026, 11, 27)]))
    start = dt.datetime.combine(day, dt.time(12), AMS).astimezone(dt.UTC) + dt.timedelta(minutes=offset)
    active, change = s.state(start)
    assert active == s.active_local(start.astimezone(AMS))
    horizon = 8 * 24 * 60
    expected = brute_force_change(s, start, horizon)
    if change is None:
        assert expected is None
    elif expected is None:
        # a weekly window skipped for a holiday can next change beyond the brute force's horizon
        assert change.astimezone(dt.UTC) > start + dt.timedelta(minutes=horizon)
    else:
        assert change.astimezone(dt.UTC) == expected
        # the remembered answer is the same just before the change, and new right at it
        # (a second before in real time: arithmetic on an aware local time is wall-clock arithmetic, and one
        # second before 03:00 on the day clocks go forward is 02:59:59, an hour later than meant)
        just_before = change.astimezone(dt.UTC) - dt.timedelta(seconds=1)
        assert s.state(just_before) == (active, change)
        assert s.active(change) != active
