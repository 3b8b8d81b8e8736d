"""`gonogo quota show|grant|reset`: an admin's view of and hand on the time budgets, on either store.

Budgets are the policy's (`quota.pool`, the rule's name unless pooled); the current period comes from
`period_of`, exactly as the proxy computes it, so what `show` prints is what the proxy enforces.
The store is opened bare (no outage fallback): an admin must hear that Redis is down, not get zeros.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sqlite3
import sys
from dataclasses import dataclass

from proxy_addons.policy import Policy, PolicyError, load_policy, period_of

from ..policy import Who
from ..policy.budgets import BudgetLookupError, budgets_for
from ..usage import DEFAULT_STATE, open_store
from ..usage.ledger import Ledger, LedgerUnavailable, period_ttl


@dataclass(frozen=True, slots=True)
class BudgetView:
    budget: str
    rules: tuple[str, ...]
    per: str
    period: str
    used: int
    limit: int
    extra: int
    resets_at: dt.datetime

    @property
    def left(self) -> int:
        return max(0, self.limit + self.extra - self.used)

    def to_json(self) -> dict[str, object]:
        return {"budget": self.budget, "rules": list(self.rules), "per": self.per, "period": self.period,
                "used": self.used, "limit": self.limit, "extra": self.extra,
                "left": self.left, "resets_at": self.resets_at.isoformat()}


async def show(ledger: Ledger, policy: Policy, person: Who, now: dt.datetime, rule: str | None = None
               ) -> list[BudgetView]:
    views = []
    minute = int(now.timestamp() // 60)
    for budget, (quota, rules) in budgets_for(policy, person, rule).items():
        period, resets_at = period_of(quota, now, policy)
        b = await ledger.balance(person.key, budget, period, minute)
        views.append(BudgetView(budget, rules, quota.per, period, b.used, quota.minutes, b.extra, resets_at))
    return views


async def grant(ledger: Ledger, policy: Policy, person: Who, rule: str, minutes: int,
                now: dt.datetime) -> BudgetView:
    ((budget, (quota, _)),) = budgets_for(policy, person, rule).items()
    period, resets_at = period_of(quota, now, policy)
    await ledger.grant(person.key, budget, period, minutes, period_ttl(resets_at, now))
    (view,) = await show(ledger, policy, person, now, rule)
    return view


async def reset(ledger: Ledger, policy: Policy, person: Who, now: dt.datetime,
                rule: str | None = None) -> list[str]:
    done = []
    for budget, (quota, _) in budgets_for(policy, person, rule).items():
        await ledger.reset(person.key, budget, period_of(quota, now, policy)[0])
        done.append(budget)
    return done


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
    person = Who(args.user or None, args.ip)
    who = args.user or args.ip
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
    """Handler of `gonogo quota ...`; returns the exit status (0 ok, 1 store unreachable, 2 bad input)."""
    try:
        policy = load_policy(args.policy)
    except PolicyError as e:
        print(e, file=sys.stderr)
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
    try:
        return asyncio.run(_run(args, policy, now))
    except (BudgetLookupError, ValueError) as e:
        print(f"gonogo quota: {e}", file=sys.stderr)
        return 2
    except (LedgerUnavailable, OSError, sqlite3.Error) as e:
        print(f"gonogo quota: cannot reach the quota store {args.state}: {e}", file=sys.stderr)
        return 1


def add_quota(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `quota show|grant|reset` on the CLI's subparsers; as proxy_addons.cli expects, the parsed arguments
    carry their handler: `args.func(args) -> int` (the exit status)."""
    quota = subparsers.add_parser("quota", help="show, grant or reset a person's time budgets",
                                  description="Show, grant or reset a person's time budgets in the quota store.")
    commands = quota.add_subparsers(dest="quota_command", required=True, metavar="show|grant|reset")

    def common(p: argparse.ArgumentParser, rule_required: bool = False) -> None:
        p.add_argument("--policy", required=True, help="the policy file (budgets and time zone come from it)")
        p.add_argument("--state", default=DEFAULT_STATE,
                       help=f"the store, as for `gonogo run`: sqlite:PATH or redis://HOST:PORT/DB "
                            f"(default {DEFAULT_STATE})")
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
    g.add_argument("--minutes", type=int, required=True, help="extra minutes (negative takes back)")
    common(commands.add_parser("reset", help="forget the current period's used and extra minutes"))
    return quota


def main(argv: list[str] | None = None) -> int:
    """`python -m proxy_addons.tools.quota quota ...`: the same command without the gonogo CLI."""
    parser = argparse.ArgumentParser(prog="gonogo")
    add_quota(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
