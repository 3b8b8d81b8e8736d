"""`gonogo check POLICY`: validate a policy and summarise it; the policy loading the other commands share."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import settings


def add_check(subparsers: Any) -> None:
    p = subparsers.add_parser("check", help="validate a policy and summarise it",
                              description="Validate a policy; exit 0 with a summary when valid, 1 with "
                                          "file:line:col errors when not. Warnings never fail.")
    settings.add_policy(p, positional=True)
    add_lists_cache(p)
    p.add_argument("--online", action="store_true",
                   help="also bind to the policy's directory and read every directory group (member counts, "
                        "groups that do not exist); exit 1 when that fails")
    p.set_defaults(func=cmd_check)


def add_lists_cache(p: Any) -> None:
    """The option every command that loads a policy with remote lists needs: where their copies are."""
    p.add_argument("--lists-cache", metavar="DIR", default=str(settings.state_dir() / "lists"),
                   help="copies of remote category lists (default the gateway's <state dir>/lists: "
                        "$GONOGO_STATE_DIR/lists, else beside the SQLite ledger of $GONOGO_STATE, else var/lists)")


def cmd_check(args: argparse.Namespace) -> int:
    path = settings.need_policy(args, "check")
    if path is None:
        return 2
    policy = load_or_report(path, args.lists_cache)
    if policy is None:
        return 1
    print_warnings(policy)
    from ..policy.describe import summarise

    print(summarise(policy))
    if getattr(args, "online", False):
        from ..directory.online import check_online

        lines, ok = check_online(policy)
        for i, line in enumerate(lines):
            print(f"{'online' if i == 0 else '':<11} {line}")
        return 0 if ok else 1
    return 0


def load_or_report(path: str, list_cache: str | None = None) -> Any:
    """The policy, or None after printing its errors (and warnings) as `file:line:col: error: ...`."""
    from pathlib import Path

    from ..policy import PolicyError, load_policy

    try:
        return load_policy(path, Path(list_cache) if list_cache else None)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def print_warnings(policy: Any) -> None:
    for warning in policy.warnings:
        print(warning, file=sys.stderr)
