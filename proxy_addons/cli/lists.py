"""`gonogo lists update POLICY`: fetch the policy's remote category lists now, into the cache the
gateway and `gonogo check` read (the gateway also refreshes them in the background)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .check import add_lists_cache, load_or_report


def add_lists(subparsers: Any) -> None:
    p = subparsers.add_parser("lists", help="remote category lists",
                              description="Remote category lists (lists: [{url: ...}] in a category).")
    commands = p.add_subparsers(dest="lists_command", metavar="COMMAND")
    update = commands.add_parser(
        "update", help="fetch the remote lists now",
        description="Fetch every remote list of the policy now (conditional requests: an unchanged list "
                    "costs a 304) into the cache. A failed or implausible download (empty, too large, or "
                    "losing more than half its entries) keeps the last copy. Exit 1 when any list failed "
                    "or was rejected. A running gateway applies the new copies within a second.")
    update.add_argument("policy", metavar="POLICY", help="policy file (YAML)")
    add_lists_cache(update)
    update.add_argument("--force", action="store_true",
                        help="fetch unconditionally and accept a list that shrank (not an empty one)")
    update.add_argument("--max-bytes", type=int, default=None, help="largest download accepted (default 64 MiB)")
    update.add_argument("--timeout", type=float, default=None, help="seconds for each download (default 60)")
    update.set_defaults(func=cmd_update)
    p.set_defaults(func=lambda _args: p.print_help(sys.stderr) or 2)


def cmd_update(args: argparse.Namespace) -> int:
    policy = load_or_report(args.policy, args.lists_cache)
    if policy is None:
        return 1
    from dataclasses import replace

    from ..lists.fetch import DEFAULT_LIMITS, fetch_list
    from ..lists.refresh import remote_lists
    from ..policy.report import DEFAULT_LIST_CACHE

    cache = Path(args.lists_cache) if args.lists_cache else DEFAULT_LIST_CACHE
    limits = DEFAULT_LIMITS
    if args.max_bytes is not None:
        limits = replace(limits, max_bytes=args.max_bytes)
    if args.timeout is not None:
        limits = replace(limits, timeout=args.timeout)
    remotes = remote_lists(policy)
    if not remotes:
        print(f"{args.policy}: no remote lists")
        return 0
    bad = 0
    for remote in remotes:
        outcome = fetch_list(remote.url, remote.format, cache, limits, force=args.force)
        bad += outcome.result in ("failed", "rejected")
        print(f"{remote.url} ({', '.join(remote.categories)}): {outcome.result}: {outcome.detail}",
              file=sys.stderr if outcome.result in ("failed", "rejected") else sys.stdout)
    return 1 if bad else 0
