"""Weekly time windows in the policy's zone, holidays, and when a schedule next changes state.

Everything is computed in local wall-clock time through `zoneinfo`, so "08:30" stays 08:30 across a
daylight-saving change, and an overnight window (`to` <= `from`) belongs to the day it starts on —
including for the holiday test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HORIZON_DAYS = 9  # a weekly schedule repeats; look a little past one week for the next change


class Holidays:
    """Public holidays of one country (the `holidays` package) plus the company's own days off."""

    def __init__(self, country: str | None = None, subdivision: str | None = None,
                 dates: Iterable[dt.date] = ()) -> None:
        self.country = country
        self.subdivision = subdivision
        self.dates = frozenset(dates)
        self._public = None
        if country:
            import holidays  # imported lazily: it is large and most checks never need it

            self._public = holidays.country_holidays(country, subdiv=subdivision)
        self._cache: dict[dt.date, str | None] = {}

    def name(self, day: dt.date) -> str | None:
        """The holiday's name, or None on a normal day."""
        try:
            return self._cache[day]
        except KeyError:
            pass
        found: str | None = None
        if day in self.dates:
            found = "company day off"
        elif self._public is not None:
            found = self._public.get(day)
        self._cache[day] = found
        return found

    def __contains__(self, day: dt.date) -> bool:
        return self.name(day) is not None


NO_HOLIDAYS = Holidays()


@dataclass(frozen=True, slots=True)
class Window:
    days: frozenset[int]  # 0 = Monday
    start: int  # minutes after midnight, 0..1439
    end: int  # minutes after midnight, 1..1440; end <= start means overnight
    include_holidays: bool = False

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def active(self, local: dt.datetime, holidays: Holidays) -> bool:
        minute = local.hour * 60 + local.minute
        day = local.date()
        if self.overnight:
            if minute >= self.start and local.weekday() in self.days:
                return self.include_holidays or day not in holidays
            if minute < self.end:
                before = day - dt.timedelta(days=1)
                return before.weekday() in self.days and (self.include_holidays or before not in holidays)
            return False
        if self.start <= minute < self.end and local.weekday() in self.days:
            return self.include_holidays or day not in holidays
        return False

    def describe(self) -> str:
        return f"{describe_days(self.days)} {fmt_minutes(self.start)}-{fmt_minutes(self.end)}" + (
            " (holidays included)" if self.include_holidays else ""
        )


@dataclass(eq=False, slots=True)
class Schedule:
    name: str
    windows: tuple[Window, ...]
    tz: ZoneInfo
    holidays: Holidays = NO_HOLIDAYS
    # (valid_from, valid_until, active): the state is constant on [valid_from, valid_until)
    _cache: tuple[float, float, bool] = field(default=(0.0, -1.0, False), repr=False)

    def active_local(self, local: dt.datetime) -> bool:
        return any(w.active(local, self.holidays) for w in self.windows)

    def active(self, now: dt.datetime) -> bool:
        return self.state(now)[0]

    def state(self, now: dt.datetime) -> tuple[bool, dt.datetime | None]:
        """Whether the schedule is active at `now`, and when that next changes (None: never)."""
        ts = now.timestamp()
        start, until, active = self._cache
        if not start <= ts < until:
            active, change = self._compute(now)
            until = change.timestamp() if change else ts + 7 * 86400
            self._cache = (ts, until, active)
            return active, change
        return active, (dt.datetime.fromtimestamp(until, self.tz) if until - ts < 7 * 86400 - 1 else None)

    def _compute(self, now: dt.datetime) -> tuple[bool, dt.datetime | None]:
        local = now.astimezone(self.tz)
        active = self.active_local(local)
        for candidate in self._boundaries(local.date()):
            if candidate > now and self.active_local(candidate.astimezone(self.tz)) != active:
                return active, candidate
        return active, None

    def _boundaries(self, today: dt.date) -> list[dt.datetime]:
        minutes = {0} | {w.start for w in self.windows} | {w.end % 1440 for w in self.windows}
        found = []
        for offset in range(-1, _HORIZON_DAYS):
            day = today + dt.timedelta(days=offset)
            for minute in minutes:
                naive = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
                # round-trip through UTC so a wall time inside a DST gap lands on a real instant
                found.append(naive.replace(tzinfo=self.tz).astimezone(dt.UTC).astimezone(self.tz))
        found.sort()
        return found

    def describe(self) -> str:
        return "; ".join(w.describe() for w in self.windows)


def parse_days(spec: str | list[str]) -> frozenset[int]:
    """`mon-fri`, `sat,sun`, `[mon, wed-thu]`, `fri-mon` (wraps) -> weekday numbers; ValueError if bad."""
    items = spec if isinstance(spec, list) else [spec]
    days: set[int] = set()
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"a day must be a word like 'mon', not {item!r}")
        for part in item.split(","):
            part = part.strip().lower()
            if not part:
                continue
            first, _, last = part.partition("-")
            a = _day(first)
            b = _day(last) if last else a
            d = a
            while True:
                days.add(d)
                if d == b:
                    break
                d = (d + 1) % 7
    if not days:
        raise ValueError("no days given")
    return frozenset(days)


def _day(word: str) -> int:
    word = word.strip()
    for number, (short, full) in enumerate(zip(DAY_NAMES, _FULL_NAMES, strict=True)):
        if word in (short, full):
            return number
    raise ValueError(f"unknown day {word!r}; use mon, tue, wed, thu, fri, sat, sun")


_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_time(text: object, *, allow_24: bool = False) -> int:
    """'08:30' -> 510 minutes; '24:00' only where `allow_24` (the end of a window)."""
    if not isinstance(text, str):
        raise ValueError(f"a time must be quoted text like \"08:30\", not {text!r}")
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2 or len(hours) > 2:
        raise ValueError(f"bad time {text!r}; write HH:MM, e.g. \"08:30\"")
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0 and allow_24:
        return 1440
    if h > 23 or m > 59:
        raise ValueError(f"bad time {text!r}; hours 00-23, minutes 00-59")
    return h * 60 + m


def fmt_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def describe_days(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) == 7:
        return "every day"
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{DAY_NAMES[ordered[0]].capitalize()}-{DAY_NAMES[ordered[-1]].capitalize()}"
    return ", ".join(DAY_NAMES[d].capitalize() for d in ordered)
