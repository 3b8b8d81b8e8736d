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
_CACHED_STATES = 4
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


@dataclass(eq=False, slots=True)
class Schedule:
    name: str
    windows: tuple[Window, ...]
    tz: ZoneInfo
    holidays: Holidays = NO_HOLIDAYS
    title: str | None = None  # display name (a wording.Localized when given per language); None: the name
    # recent answers: (valid_from, valid_until, active, next change); the state is constant on
    # [valid_from, valid_until). A few are kept so that looking ahead (when does access return?)
    # does not evict the present.
    _cache: list[tuple[float, float, bool, dt.datetime | None]] = field(default_factory=list, repr=False)

    def active_local(self, local: dt.datetime) -> bool:
        return any(w.active(local, self.holidays) for w in self.windows)

    def active(self, now: dt.datetime) -> bool:
        return self.state(now)[0]

    def state(self, now: dt.datetime) -> tuple[bool, dt.datetime | None]:
        """Whether the schedule is active at `now`, and when that next changes (None: not within a week)."""
        return self.state_at(now.timestamp(), now)

    def state_at(self, ts: float, now: dt.datetime) -> tuple[bool, dt.datetime | None]:
        """`state(now)` where `ts` is `now.timestamp()`, already known to the caller."""
        entry = self.entry_at(ts, now)
        return entry[2], entry[3]

    def entry_at(self, ts: float, now: dt.datetime) -> tuple[float, float, bool, dt.datetime | None]:
        """(valid from, valid until, active, next change) for `now`: the engine compares the
        timestamps, since datetimes of one zone compare by wall clock, which repeats in autumn."""
        for entry in self._cache:
            if entry[0] <= ts < entry[1]:
                return entry
        active, change = self._compute(now)
        # without a change in sight the answer holds for a day at least (the horizon is longer)
        entry = (ts, change.timestamp() if change is not None else ts + 86400, active, change)
        self._cache = [entry, *self._cache[: _CACHED_STATES - 1]]
        return entry

    def _compute(self, now: dt.datetime) -> tuple[bool, dt.datetime | None]:
        local = now.astimezone(self.tz)
        active = self.active_local(local)
        instant = now.astimezone(dt.UTC)
        for candidate in self._boundaries(local.date()):
            if candidate > instant and self.active_local(candidate.astimezone(self.tz)) != active:
                return active, candidate.astimezone(self.tz)
        return active, None

    def _boundaries(self, today: dt.date) -> list[dt.datetime]:
        """Every instant (in UTC) at which the schedule may change: each window edge as wall-clock time on each
        day (both readings of a time that occurs twice when clocks go back; a time inside the gap when
        they go forward has no instant of its own) plus the daylight-saving changes themselves, where
        the wall clock jumps over or back across an edge."""
        minutes = {0} | {w.start for w in self.windows} | {w.end % 1440 for w in self.windows}
        found: set[dt.datetime] = set()
        for offset in range(-1, _HORIZON_DAYS):
            day = today + dt.timedelta(days=offset)
            for minute in minutes:
                naive = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
                for fold in (0, 1):
                    found.add(naive.replace(tzinfo=self.tz, fold=fold).astimezone(dt.UTC))
            found.update(self._transitions(day))
        return sorted(found)  # in UTC: instants, not wall-clock readings

    def _transitions(self, day: dt.date) -> list[dt.datetime]:
        """The instant (to the second) on `day` at which the zone's UTC offset changes, if it does."""
        start = int(dt.datetime.combine(day, dt.time(0), self.tz).timestamp())
        end = int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), self.tz).timestamp())

        def offset(ts: int) -> dt.timedelta | None:
            return dt.datetime.fromtimestamp(ts, self.tz).utcoffset()

        before = offset(start)
        if before == offset(end):
            return []
        low, high = start, end  # offset(low) == before != offset(high)
        while high - low > 1:
            middle = (low + high) // 2
            if offset(middle) == before:
                low = middle
            else:
                high = middle
        return [dt.datetime.fromtimestamp(high, dt.UTC)]


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
