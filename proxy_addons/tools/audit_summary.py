"""What `gonogo audit` reports from the audit log files: counts by day, rule and event, distinct people
(pseudonyms are counted, never shown) per rule, the top hosts, and the records the proxy could not write.

The files are the ones proxy_addons/audit.py writes; this module only reads them, so it runs anywhere the
directory is readable, without the proxy.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..audit import LOST_EVENT, audit_files


def parse_since(text: str, today: dt.date, zone: dt.tzinfo = dt.UTC) -> dt.datetime:
    """`7d` (the last 7 days, today included), `2026-11-01` or an ISO date-time -> an aware time in `zone`
    (the policy's: a day starts at its midnight, as the proxy's days do). `today` is today in `zone`."""
    match = re.fullmatch(r"(\d+)d", text.strip())
    if match:
        # more days than the calendar has (99999999999d) means "everything", not an OverflowError
        days = min(int(match.group(1)) - 1, (today - dt.date.min).days)
        day = today - dt.timedelta(days=max(days, 0))
        return dt.datetime.combine(day, dt.time(0), zone)
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since: {text!r} is not a number of days like 7d or a date like 2026-11-01") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


@dataclass
class _Tally:
    """Everything counted while reading the files."""

    zone: dt.tzinfo = dt.UTC
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    people: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    hosts: Counter[str] = field(default_factory=Counter)
    records: int = 0
    bad: int = 0
    dropped: int = 0
    write_errors: int = 0

    def add(self, entry: dict[str, Any], moment: dt.datetime) -> None:
        rule, event = str(entry["rule"]), str(entry["event"])
        self.records += 1
        self.counts[(moment.astimezone(self.zone).date().isoformat(), rule, event)] += 1
        if entry.get("user"):
            self.people[rule].add(str(entry["user"]))
        if entry.get("host"):
            self.hosts[str(entry["host"])] += 1

    def add_lost(self, entry: dict[str, Any]) -> None:
        """A note the proxy wrote after records were lost: dropped (queue full) or not written (disk)."""
        self.dropped += int(entry.get("dropped", 0))
        self.write_errors += int(entry.get("errors", 0))


def summarize(directory: Path, since: dt.datetime | None = None, top: int = 10,
              zone: dt.tzinfo = dt.UTC) -> dict[str, Any]:
    """Counts by day x rule x event, distinct users (pseudonyms) per rule, the top hosts, lost records.
    Days are days in `zone` (the policy's time zone); the files are per UTC day."""
    tally = _Tally(zone)
    since_day = since.astimezone(dt.UTC).date() if since else None
    for path, day in sorted(audit_files(directory), key=lambda item: item[1]):
        if since_day is not None and day < since_day:
            continue
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                _read_line(tally, line, since)
    return {
        "since": since.astimezone(zone).isoformat() if since else None,
        "timezone": str(zone),
        "records": tally.records,
        "unreadable_lines": tally.bad,
        "dropped_records": tally.dropped,
        "write_errors": tally.write_errors,
        "counts": [{"day": d, "rule": r, "event": e, "count": n} for (d, r, e), n in sorted(tally.counts.items())],
        "people_per_rule": dict(sorted((rule, len(users)) for rule, users in tally.people.items())),
        "top_hosts": [{"host": h, "count": n} for h, n in tally.hosts.most_common(top)],
    }


def _read_line(tally: _Tally, line: str, since: dt.datetime | None) -> None:
    try:
        entry = json.loads(line)
        moment = dt.datetime.fromisoformat(entry["time"])
        if since is not None and moment < since:
            return
        if entry.get("event") == LOST_EVENT:
            tally.add_lost(entry)
        else:
            tally.add(entry, moment)
    except (ValueError, KeyError, TypeError, AttributeError):
        tally.bad += 1


def format_summary(summary: dict[str, Any], directory: Path) -> str:
    since = f" since {summary['since']}" if summary["since"] else ""
    out = [f"Audit log {directory}{since}: {summary['records']} records (days in {summary['timezone']})"]
    if summary["unreadable_lines"]:
        out.append(f"({summary['unreadable_lines']} unreadable lines skipped)")
    if summary["dropped_records"] or summary["write_errors"]:
        out.append(f"Incomplete: the proxy dropped {summary['dropped_records']} records (writer queue full) and "
                   f"failed {summary['write_errors']} times to write the log (see the proxy's error log)")
    if summary["counts"]:
        width = max(len("rule"), *(len(c["rule"]) for c in summary["counts"]))
        out += ["", f"{'day':<10}  {'rule':<{width}}  {'event':<9}  {'count':>5}"]
        out += [f"{c['day']:<10}  {c['rule']:<{width}}  {c['event']:<9}  {c['count']:>5}" for c in summary["counts"]]
    if summary["people_per_rule"]:
        out += ["", "Distinct people per rule (pseudonyms are counted, never shown):"]
        out += [f"  {rule}: {n}" for rule, n in summary["people_per_rule"].items()]
    if summary["top_hosts"]:
        out += ["", "Top hosts:"]
        out += [f"  {h['host']}: {h['count']}" for h in summary["top_hosts"]]
    return "\n".join(out) + "\n"
