"""The audit log: what a record holds, pseudonyms, modes, daily files, retention and `gonogo audit`."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from proxy_addons.audit import AuditLog, pseudonym
from proxy_addons.cli.audit import add_audit
from proxy_addons.policy import BudgetUsage, Request, Usage, Who, evaluate, load_policy
from proxy_addons.policy.model import Privacy
from tests.conftest import EXAMPLE_POLICY

AMS = ZoneInfo("Europe/Amsterdam")
THURSDAY_10 = dt.datetime(2026, 11, 26, 10, 0, tzinfo=AMS)
NAME = "ivo.intern"


@pytest.fixture(scope="module")
def decisions():
    policy = load_policy(EXAMPLE_POLICY)
    usage = Usage({"social time-box": BudgetUsage(30, False, 0, "2026-11-26")})
    result = {
        "block": evaluate(policy, Who("ivo"), Request("www.facebook.com", "POST", "/ivo.intern/posts"), THURSDAY_10),
        "warn": evaluate(policy, Who("dirk"), Request("nu.nl"), THURSDAY_10),
        "exhausted": evaluate(policy, Who("dirk"), Request("www.facebook.com"), THURSDAY_10, usage),
        "allow": evaluate(policy, Who("anna"), Request("www.facebook.com"), THURSDAY_10),
    }
    assert [d.decision for d in result.values()] == ["block", "warn", "block", "allow"]
    return result


def _open(tmp_path: Path, mode: str = "pseudonymous", retention: int = 30, now: dt.datetime = THURSDAY_10,
          ) -> AuditLog:
    return AuditLog(tmp_path / "audit", Privacy(audit_log=mode, retention_days=retention), tmp_path / "state" / "key",
                    clock=lambda: now)


def _lines(directory: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(directory.glob("audit-*.jsonl"))
            for line in path.read_text().splitlines()]


def test_pseudonymous_records_never_contain_the_name(tmp_path, decisions):
    log = _open(tmp_path)
    assert log.record(decisions["block"], user=NAME, host="www.facebook.com")
    assert log.record(decisions["warn"], user=NAME, host="nu.nl")
    assert log.record(decisions["warn"], user=NAME, host="nu.nl", event="continue")
    assert log.record(decisions["exhausted"], user=NAME, host="www.facebook.com", event="exhausted")
    assert not log.record(decisions["allow"], user=NAME, host="www.facebook.com")  # allows are not audited
    assert log.flush()
    log.close()

    files = list((tmp_path / "audit").iterdir())
    assert [f.name for f in files] == ["audit-2026-11-26.jsonl"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert NAME.encode() not in files[0].read_bytes() and b"ivo" not in files[0].read_bytes()
    key = (tmp_path / "state" / "key").read_bytes()
    assert key.hex() not in files[0].read_text() and stat.S_IMODE((tmp_path / "state" / "key").stat().st_mode) == 0o600

    block, warn, cont, exhausted = _lines(tmp_path / "audit")
    assert block == {"time": "2026-11-26T09:00:00Z", "event": "block", "decision": "block", "action": "block",
                     "rule": "no posting from interns", "category": "social", "group": "interns",
                     "host": "www.facebook.com", "user": pseudonym(key, NAME)}
    assert (warn["event"], warn["rule"], cont["event"]) == ("warn", "news needs a reason", "continue")
    assert exhausted["event"] == "exhausted" and (exhausted["budget"], exhausted["used"], exhausted["limit"]) == (
        "social time-box", 30, 30)
    assert len({r["user"] for r in (block, warn, cont, exhausted)}) == 1


def test_the_key_is_stable_across_restarts(tmp_path, decisions):
    first = _open(tmp_path)
    first.record(decisions["block"], user=NAME, host="www.facebook.com")
    first.close()
    key = (tmp_path / "state" / "key").read_bytes()
    second = _open(tmp_path)
    second.record(decisions["block"], user=NAME, host="www.facebook.com")
    second.record(decisions["block"], user="iris", host="www.facebook.com")
    second.close()
    assert (tmp_path / "state" / "key").read_bytes() == key and len(key) >= 32
    users = [r["user"] for r in _lines(tmp_path / "audit")]
    assert users[0] == users[1] != users[2]
    assert pseudonym(b"another key", NAME) != users[0]  # the pseudonym depends on the secret


def test_records_from_the_event_loop_are_written_by_the_thread(tmp_path, decisions):
    async def proxy_hooks() -> bool:
        log = _open(tmp_path)
        for i in range(200):
            assert log.record(decisions["warn"], user=f"user{i}", host="nu.nl")
        written = await asyncio.to_thread(log.flush)
        await asyncio.to_thread(log.close)
        return written

    assert asyncio.run(proxy_hooks())
    assert len(_lines(tmp_path / "audit")) == 200


def test_named_mode_records_the_name(tmp_path, decisions):
    log = _open(tmp_path, "named")
    log.record(decisions["block"], user=NAME, host="www.facebook.com")
    log.record(decisions["warn"], user=None, host="nu.nl")
    log.close()
    assert [r["user"] for r in _lines(tmp_path / "audit")] == [NAME, None]


def test_off_writes_nothing(tmp_path, decisions):
    log = _open(tmp_path, "off")
    assert not log.record(decisions["block"], user=NAME, host="www.facebook.com")
    assert log.flush()
    log.close()
    assert not (tmp_path / "audit").exists() and not (tmp_path / "state").exists()


def test_a_reloaded_policy_can_switch_the_log_off(tmp_path, decisions):
    log = _open(tmp_path)
    log.record(decisions["block"], user=NAME, host="www.facebook.com")
    log.reconfigure(Privacy(audit_log="off"))
    assert not log.record(decisions["block"], user=NAME, host="www.facebook.com")
    log.close()
    assert len(_lines(tmp_path / "audit")) == 1


def test_one_file_per_utc_day(tmp_path, decisions):
    log = _open(tmp_path)
    # 00:30 on Friday in Amsterdam is still Thursday in UTC
    for moment in (dt.datetime(2026, 11, 26, 23, 0, tzinfo=AMS), dt.datetime(2026, 11, 27, 0, 30, tzinfo=AMS),
                   dt.datetime(2026, 11, 27, 1, 30, tzinfo=AMS), dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)):
        log.record(decisions["warn"], user=NAME, host="nu.nl", now=moment)
    log.close()
    by_file = {p.name: [json.loads(x)["time"] for x in p.read_text().splitlines()]
               for p in (tmp_path / "audit").iterdir()}
    assert by_file == {
        "audit-2026-11-26.jsonl": ["2026-11-26T22:00:00Z", "2026-11-26T23:30:00Z"],
        "audit-2026-11-27.jsonl": ["2026-11-27T00:30:00Z"],
        "audit-2026-11-28.jsonl": ["2026-11-28T12:00:00Z"],
    }


def test_files_past_retention_are_deleted(tmp_path, decisions):
    directory = tmp_path / "audit"
    directory.mkdir()
    for name in ("audit-2026-11-15.jsonl", "audit-2026-11-18.jsonl", "audit-2026-11-19.jsonl", "notes.txt",
                 "audit-2026-13-01.jsonl"):
        (directory / name).write_text("{}\n")
    log = _open(tmp_path, retention=7)  # today is 2026-11-26: the 19th is kept, the 18th ended > 7 days ago
    log.record(decisions["block"], user=NAME, host="www.facebook.com")
    log.close()
    assert sorted(p.name for p in directory.iterdir()) == [
        "audit-2026-11-19.jsonl", "audit-2026-11-26.jsonl", "audit-2026-13-01.jsonl", "notes.txt"]
    # the 26th ended at 2026-11-27T00:00Z: kept until seven days after that
    almost = _open(tmp_path, retention=7, now=dt.datetime(2026, 12, 3, 23, 55, tzinfo=dt.UTC))
    assert [p.name for p in almost.prune()] == ["audit-2026-11-19.jsonl"]
    later = _open(tmp_path, retention=7, now=dt.datetime(2026, 12, 4, 0, 5, tzinfo=dt.UTC))
    assert [p.name for p in later.prune()] == ["audit-2026-11-26.jsonl"]


def _summarise(*argv: str, capsys) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="gonogo")
    add_audit(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["audit", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_gonogo_audit_summarises_by_day_rule_and_event(tmp_path, decisions, capsys):
    today = dt.datetime.now(dt.UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    log = _open(tmp_path, now=today)
    old = today - dt.timedelta(days=20)
    log.record(decisions["block"], user="old", host="old.facebook.com", now=old)
    for minute, user in enumerate(("a", "b", "a")):  # a came back a minute later: a second block
        log.record(decisions["block"], user=user, host="www.facebook.com", now=today + dt.timedelta(minutes=minute))
    log.record(decisions["warn"], user="a", host="nu.nl", now=today - dt.timedelta(days=1))
    log.record(decisions["exhausted"], user="c", host="m.facebook.com", event="exhausted", now=today)
    log.close()
    with (tmp_path / "audit" / f"audit-{today.date()}.jsonl").open("a") as file:
        file.write("not json\n")
    directory = str(tmp_path / "audit")

    code, out, _ = _summarise("--dir", directory, "--since", "7d", "--json", capsys=capsys)
    assert code == 0
    summary = json.loads(out)
    day, yesterday = today.date().isoformat(), (today.date() - dt.timedelta(days=1)).isoformat()
    assert summary["records"] == 5 and summary["unreadable_lines"] == 1
    assert summary["counts"] == [
        {"day": yesterday, "rule": "news needs a reason", "event": "warn", "count": 1},
        {"day": day, "rule": "no posting from interns", "event": "block", "count": 3},
        {"day": day, "rule": "social time-box", "event": "exhausted", "count": 1},
    ]
    assert summary["people_per_rule"] == {"news needs a reason": 1, "no posting from interns": 2,
                                          "social time-box": 1}
    assert summary["top_hosts"][0] == {"host": "www.facebook.com", "count": 3}

    code, out, _ = _summarise("--dir", directory, capsys=capsys)  # no --since: everything kept
    assert code == 0
    assert ": 6 records" in out
    assert f"{old.date()}  no posting from interns" in out
    assert "  no posting from interns: 3" in out  # old, a, b
    assert "  www.facebook.com: 3" in out
    key = (tmp_path / "state" / "key").read_bytes()
    assert pseudonym(key, "a") not in out  # pseudonyms are counted, not listed


def test_gonogo_audit_reports_bad_arguments(tmp_path, capsys):
    code, _, err = _summarise("--dir", str(tmp_path / "missing"), capsys=capsys)
    assert code == 2 and "no such directory" in err
    code, _, err = _summarise("--dir", str(tmp_path), "--since", "last tuesday", capsys=capsys)
    assert code == 2 and "--since: 'last tuesday' is not a number of days" in err


def test_since_takes_a_date(tmp_path, decisions, capsys):
    log = _open(tmp_path)
    for day in (1, 2, 3):
        log.record(decisions["block"], user="a", host="x.test", now=dt.datetime(2026, 11, day, 12, tzinfo=dt.UTC))
    log.close()
    code, out, _ = _summarise("--dir", str(tmp_path / "audit"), "--since", "2026-11-02", "--json", capsys=capsys)
    assert code == 0 and [c["day"] for c in json.loads(out)["counts"]] == ["2026-11-02", "2026-11-03"]


def test_decision_without_rule_is_recorded_as_default(tmp_path, decisions):
    log = _open(tmp_path)
    log.record(dataclasses.replace(decisions["block"], rule=None), user=None, host="x.test")
    log.close()
    assert [(r["rule"], r["user"]) for r in _lines(tmp_path / "audit")] == [("default", None)]


def test_lost_records_are_logged_and_shown_by_gonogo_audit(tmp_path, decisions, capsys, caplog):
    """Records dropped on a full queue and failed writes are written down as a `lost` note once the writer
    can write again, and `gonogo audit` says the log is incomplete."""
    directory = tmp_path / "audit"
    directory.mkdir()
    (directory / "audit-2026-11-24.jsonl").mkdir()  # a write to this day fails (EISDIR)
    pipe = directory / "audit-2026-11-25.jsonl"
    os.mkfifo(pipe)  # a write to this day blocks the writer until someone reads: meanwhile the queue fills up
    log = AuditLog(directory, Privacy(), tmp_path / "state" / "key", clock=lambda: THURSDAY_10, queue_limit=2)
    queued = [log.record(decisions["block"], user=f"u{i}", host="x.test",
                         now=dt.datetime(2026, 11, day, 12, tzinfo=dt.UTC))
              for i, day in enumerate((24, 25, 26, 26, 26, 26))]
    assert log.dropped >= 2 and queued.count(False) == log.dropped  # at most 2 taken by the writer, 2 queued
    with ThreadPoolExecutor(1) as reader:
        read = reader.submit(pipe.read_text)  # lets the writer through the pipe
        log.close()
        assert read.result(timeout=30).count("\n") == 1
    assert log.errors == 1
    pipe.unlink()
    (directory / "audit-2026-11-24.jsonl").rmdir()
    lost = [r for r in _lines(directory) if r["event"] == "lost"]
    assert sum(r["dropped"] for r in lost) == log.dropped and sum(r["errors"] for r in lost) == 1
    assert "records dropped (queue full)" in caplog.text

    code, out, _ = _summarise("--dir", str(directory), "--json", capsys=capsys)
    summary = json.loads(out)
    assert code == 0 and (summary["dropped_records"], summary["write_errors"]) == (log.dropped, 1)
    assert summary["records"] == 4 - log.dropped and summary["unreadable_lines"] == 0
    code, out, _ = _summarise("--dir", str(directory), capsys=capsys)
    assert f"Incomplete: the proxy dropped {log.dropped} records" in out and "failed 1 times" in out


def test_a_complete_log_is_not_called_incomplete(tmp_path, decisions, capsys):
    log = _open(tmp_path)
    log.record(decisions["block"], user="a", host="x.test")
    log.close()
    code, out, _ = _summarise("--dir", str(tmp_path / "audit"), capsys=capsys)
    assert code == 0 and "Incomplete" not in out and ": 1 records" in out


def test_one_record_per_person_host_event_and_minute(tmp_path, decisions):
    """A blocked page view brings its favicon and background requests, each blocked too: one block in the log.
    Another minute, person, host or event is another record."""
    log = _open(tmp_path)
    at = dt.datetime(2026, 11, 26, 9, 0, 10, tzinfo=dt.UTC)
    for seconds in (0, 1, 5, 40):  # the page, favicon.ico, an XHR, a retry: all within 09:00
        assert log.record(decisions["block"], user="ivo", host="www.facebook.com",
                          now=at + dt.timedelta(seconds=seconds)) == (seconds == 0)
    assert log.record(decisions["block"], user="ivo", host="static.facebook.com", now=at)  # another host
    assert log.record(decisions["block"], user="iris", host="www.facebook.com", now=at)  # another person
    assert log.record(decisions["warn"], user="ivo", host="www.facebook.com", now=at)  # another event
    assert log.record(decisions["block"], user="ivo", host="www.facebook.com", now=at + dt.timedelta(minutes=1))
    log.close()
    assert len(_lines(tmp_path / "audit")) == 5 and log.repeats == 3


def test_gonogo_audit_counts_days_in_the_policys_time_zone(tmp_path, decisions, capsys):
    """At 23:30 UTC it is already tomorrow in Amsterdam: with --policy the days are the policy's days."""
    log = _open(tmp_path)
    log.record(decisions["block"], user="a", host="x.test", now=dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.UTC))
    log.close()
    directory = str(tmp_path / "audit")
    code, out, _ = _summarise("--dir", directory, "--json", capsys=capsys)
    assert code == 0 and [c["day"] for c in json.loads(out)["counts"]] == ["2026-11-25"]
    assert json.loads(out)["timezone"] == "UTC"
    code, out, _ = _summarise("--dir", directory, "--policy", str(EXAMPLE_POLICY), "--since", "2026-11-26", "--json",
                              capsys=capsys)
    summary = json.loads(out)
    assert code == 0 and [c["day"] for c in summary["counts"]] == ["2026-11-26"]
    assert summary["since"] == "2026-11-26T00:00:00+01:00" and summary["timezone"] == "Europe/Amsterdam"
    code, out, _ = _summarise("--dir", directory, "--policy", str(EXAMPLE_POLICY), capsys=capsys)
    assert "(days in Europe/Amsterdam)" in out
