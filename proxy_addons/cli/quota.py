"""`gonogo quota show|grant|reset`: an admin's view of and hand on the time budgets, on either store.

The work is tools/quota.py's; this module reads the arguments and prints the result. The store is opened
bare (no outage fallback): an admin must hear that Redis is down, not get zeros.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sqlite3
import sys

from ..policy import Policy, Who
from ..policy.budgets import BudgetLookupError
from ..policy.names import normalize_user
from ..tools.quota import BudgetView, grant, reset, show
from ..usage import open_store
from ..usage.ledger import LedgerUnavailable
from . import settings
from .numbers import MAX_GRANT_MINUTES, int_between


def _print(views: list[BudgetView], as_json: bool, user: str) -> None:
    if as_json:
        print(json.dumps([v.to_json() for v in views], indent=2))
        return
    if not views:
        print(f"no time budget applies to {user}")
        return
    width = max(len("budget"), *(len(v.budget) for v in views))
    print(f"{'budget':<{width}}  {'used':>4}  {'limit':<9}  {'left':>4}  resets at")
    for v in views:
        limit = f"{v.limit}+{v.extra}" if v.extra else str(v.limit)
        print(f"{v.budget:<{width}}  {v.used:>4}  {limit:<9}  {v.left:>4}  {v.resets_at:%Y-%m-%d %H:%M %Z}"
              f"  (per {v.per})")


async def _run(args: argparse.Namespace, policy: Policy, now: dt.datetime) -> int:
    # the proxy keeps budgets per user name, or per address for people without one: the same key here
    # and names normalised as the proxy does (EXAMPLE\dirk and Dirk are dirk, see policy/names.py)
    user = normalize_user(args.user) if args.user else None
    person = Who(user or None, args.ip)
    who = user or args.ip
    ledger = open_store(args.state)
    try:
        if args.quota_command == "show":
            _print(await show(ledger, policy, person, now, args.rule), args.json, who)
        elif args.quota_command == "grant":
            view = await grant(ledger, policy, person, args.rule, args.minutes, now)
            if args.json:
                print(json.dumps(view.to_json(), indent=2))
            else:
                print(f"{who}: {view.extra} extra minutes on budget '{view.budget}' until "
                      f"{view.resets_at:%Y-%m-%d %H:%M %Z}")
                _print([view], False, who)
        else:
            budgets = await reset(ledger, policy, person, now, args.rule)
            if args.json:
                print(json.dumps({"reset": budgets}))
                return 0
            print(f"{who}: reset {', '.join(repr(b) for b in budgets) or 'nothing (no time budget applies)'}")
    finally:
        await ledger.close()
    return 0


def run_quota(args: argparse.Namespace) -> int:
    """Handler of `gonogo quota ...`; returns the exit status (0 ok, 1 store missing or unreachable, 2 bad input)."""
    policy = settings.load_named_policy(args, "quota")
    if policy is None:
        return 2
    if args.at:
        try:
            now = dt.datetime.fromisoformat(args.at)
        except ValueError:
            print(f"gonogo quota: --at {args.at!r} is not a date and time like 2026-11-26T10:00", file=sys.stderr)
            return 2
        if now.tzinfo is None:
            now = now.replace(tzinfo=policy.timezone)
    else:
        now = dt.datetime.now(dt.UTC)
    problem = store_problem(args.state)
    if problem:
        return problem
    try:
        return asyncio.run(_run(args, policy, now))
    except (BudgetLookupError, ValueError) as e:
        print(f"gonogo quota: {e}", file=sys.stderr)
        return 2
    except (LedgerUnavailable, OSError, sqlite3.Error) as e:
        print(f"gonogo quota: cannot reach the quota store {args.state}: {e}", file=sys.stderr)
        return 1


def store_problem(state: str, command: str = "quota") -> int:
    """0 when `state` names an existing store; else the exit status after saying why: 2 for a value that names
    no store, 1 for a SQLite file that does not exist. An admin command never creates a ledger: a mistyped path
    or another working directory would give one the proxy never reads, and minutes granted (or requests
    approved) there would be lost without a word."""
    try:
        missing = settings.missing_store(state)
    except ValueError as e:
        print(f"gonogo {command}: {e}", file=sys.stderr)
        return 2
    if missing is None:
        return 0
    print(f"gonogo {command}: no quota store at {missing.absolute()} (--state {state}): not creating an empty one. "
          "Name the store the proxy uses, as for `gonogo run --state`, or set GONOGO_STATE.", file=sys.stderr)
    return 1


def add_store_options(p: argparse.ArgumentParser) -> None:
    """`--policy` and `--state`, as every admin command on the store takes them (`gonogo quota`, `gonogo requests`),
    defaulting to GONOGO_POLICY and GONOGO_STATE (cli/settings.py)."""
    settings.add_policy(p, positional=False)
    settings.add_state(p, "the proxy's store, as for `gonogo run` (it must exist)")


def add_quota(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `quota show|grant|reset` on the CLI's subparsers; as proxy_addons.cli expects, the parsed arguments
    carry their handler: `args.func(args) -> int` (the exit status)."""
    quota = subparsers.add_parser("quota", help="show, grant or reset a person's time budgets",
                                  description="Show, grant or reset a person's time budgets in the quota store.")
    commands = quota.add_subparsers(dest="quota_command", required=True, metavar="show|grant|reset")

    def common(p: argparse.ArgumentParser, rule_required: bool = False) -> None:
        add_store_options(p)
        who = p.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="the person, as the proxy names them (proxyauth or trusted header)")
        who.add_argument("--ip", help="a client the proxy knows by address only (no user name)")
        p.add_argument("--rule", required=rule_required,
                       help="a time-box rule: its budget only" + ("" if rule_required else " (default: all)"))
        p.add_argument("--at", help=argparse.SUPPRESS)  # another moment than now (tests, explaining a past day)
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(func=run_quota)

    common(commands.add_parser("show", help="used, limit and reset time of each budget that applies"))
    g = commands.add_parser("grant", help="extra minutes in the current period (today, this week)")
    common(g, rule_required=True)
    g.add_argument("--minutes", type=int_between(-MAX_GRANT_MINUTES, MAX_GRANT_MINUTES), required=True,
                   help=f"extra minutes (negative takes back; at most {MAX_GRANT_MINUTES} either way)")
    common(commands.add_parser("reset", help="forget the current period's used and extra minutes"))
    return quota
