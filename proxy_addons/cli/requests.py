"""`gonogo requests list|approve|deny`: the admin's side of exception requests, on the proxies' own store.

An approval is written to the store; every proxy sharing it honours it within about two seconds (they poll
the store's version) and one of them announces it (audit record, metric, webhook). The CLI itself posts nothing,
so a decision is announced once, however many admins or proxies there are, and with the proxy's privacy rules.
Text a person typed (the reason) is printed with control characters escaped, so it cannot move the cursor or
recolour the admin's terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sqlite3
import sys
import time

from ..policy import Policy
from ..usage.ledger import LedgerUnavailable
from ..usage.requests import ExceptionRequest, RequestError, RequestStore, open_requests
from . import settings
from .quota import add_store_options, store_problem

_REASON_WIDTH = 60


def terminal_safe(value: str) -> str:
    """Printable characters as they are; anything else (escape sequences, newlines) as a visible escape."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in value)


def _when(ts: float | None, policy: Policy) -> str:
    return "-" if ts is None else dt.datetime.fromtimestamp(ts, policy.timezone).strftime("%Y-%m-%d %H:%M %Z")


def _print_list(found: list[ExceptionRequest], policy: Policy) -> None:
    if not found:
        print("no exception requests")
        return
    rows = [("id", "state", "who", "rule", "host", "min", "asked", "until", "reason")]
    for r in found:
        reason = terminal_safe(r.reason)
        if len(reason) > _REASON_WIDTH:
            reason = reason[:_REASON_WIDTH - 1] + "…"
        rows.append((r.id, r.state, terminal_safe(r.who), terminal_safe(r.rule), terminal_safe(r.host),
                     str(r.granted or r.minutes), _when(r.created, policy), _when(r.until, policy), reason))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])


async def _run(args: argparse.Namespace, policy: Policy) -> int:
    store: RequestStore = open_requests(args.state)
    try:
        now = time.time()
        await store.expire(now)
        if args.requests_command == "list":
            await store.purge(now - policy.privacy.retention_days * 86400)
            found = await store.find(open_only=args.open)
            if args.json:
                print(json.dumps([r.to_json() for r in found], indent=2, ensure_ascii=True))
            else:
                _print_list(found, policy)
            return 0
        approve = args.requests_command == "approve"
        done = await store.decide(args.id, approve, getattr(args, "minutes", None), args.note, now)
    finally:
        await store.close()
    rule = policy.rule(done.rule)
    if approve and (rule is None or rule.exceptions is None):
        print(f"gonogo requests: warning: rule '{terminal_safe(done.rule)}' takes no exceptions in {policy.source} "
              "(any more): the proxies will not honour this approval", file=sys.stderr)
    if args.json:
        print(json.dumps(done.to_json(), indent=2, ensure_ascii=True))
    elif approve:
        print(f"approved {done.id}: {terminal_safe(done.who)} may use {terminal_safe(done.host)} (rule "
              f"'{terminal_safe(done.rule)}') for {done.granted} minutes, until {_when(done.until, policy)}")
    else:
        print(f"denied {done.id}: {terminal_safe(done.who)}, {terminal_safe(done.host)} "
              f"(rule '{terminal_safe(done.rule)}')")
    return 0


def run_requests(args: argparse.Namespace) -> int:
    """Handler of `gonogo requests ...`: 0 done, 1 refused (unknown, expired, decided) or store unreachable,
    2 bad input."""
    policy = settings.load_named_policy(args, "requests")
    if policy is None:
        return 2
    problem = store_problem(args.state, "requests")
    if problem:
        return problem
    try:
        return asyncio.run(_run(args, policy))
    except RequestError as e:
        print(f"gonogo requests: {e}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"gonogo requests: {e}", file=sys.stderr)
        return 2
    except (LedgerUnavailable, OSError, sqlite3.Error) as e:
        print(f"gonogo requests: cannot reach the store {args.state}: {e}", file=sys.stderr)
        return 1


def add_requests(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `requests list|approve|deny`; `args.func(args) -> int` as proxy_addons.cli expects."""
    parser = subparsers.add_parser("requests", help="list, approve or deny exception requests",
                                   description="Exception requests people made from block pages: list them, "
                                               "approve one (an exception for that person and rule until it "
                                               "expires) or deny one.")
    commands = parser.add_subparsers(dest="requests_command", required=True, metavar="list|approve|deny")
    listing = commands.add_parser("list", help="requests, newest first")
    add_store_options(listing)
    listing.add_argument("--open", action="store_true", help="only those waiting for a decision")
    approve = commands.add_parser("approve", help="approve an open request")
    add_store_options(approve)
    approve.add_argument("id", metavar="ID")
    approve.add_argument("--minutes", type=int, help="how long the exception lasts (default: what was asked)")
    deny = commands.add_parser("deny", help="deny an open request")
    add_store_options(deny)
    deny.add_argument("id", metavar="ID")
    for p in (approve, deny):
        p.add_argument("--note", help="a note the person sees on their status page")
    for p in (listing, approve, deny):
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(func=run_requests)
    return parser
