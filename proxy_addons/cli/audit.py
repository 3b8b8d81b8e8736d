"""`gonogo audit`: summarise the audit log of blocks, warnings, continues and spent budgets.

The summary is tools/audit_summary.py's; this module reads the arguments and prints it. Days and `--since`
are in the policy's time zone (the one its schedules and budgets run on), UTC only without a policy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from ..tools.audit_summary import format_summary, parse_since, summarize
from . import settings


def run_audit(args: argparse.Namespace) -> int:
    """`gonogo audit`: print the summary; exit 2 when the directory or --since is unusable."""
    directory = Path(args.dir) if args.dir else settings.state_dir() / "audit"
    if not directory.is_dir():
        print(f"gonogo audit: {directory}: no such directory", file=sys.stderr)
        return 2
    zone: dt.tzinfo = dt.UTC
    if args.policy:
        from .check import load_or_report

        policy = load_or_report(args.policy)
        if policy is None:
            return 2
        zone = policy.timezone
    try:
        since = parse_since(args.since, dt.datetime.now(zone).date(), zone) if args.since else None
    except ValueError as exc:
        print(f"gonogo audit: {exc}", file=sys.stderr)
        return 2
    summary = summarize(directory, since, zone=zone)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(format_summary(summary, directory), end="")
    return 0


def add_audit(subparsers: Any) -> argparse.ArgumentParser:
    """Register `gonogo audit` on the CLI's subparsers; the handler is `args.func(args) -> exit code`."""
    parser = subparsers.add_parser("audit", help="summarise the audit log of blocks, warnings and continues",
                                   description="Summarise the audit log: counts by day, rule and event, "
                                               "distinct people (pseudonyms) per rule, top hosts.")
    parser.add_argument("--dir", help="the audit log directory (audit-YYYY-MM-DD.jsonl files); default "
                                      "$GONOGO_STATE_DIR/audit, else audit/ beside the SQLite ledger of $GONOGO_STATE")
    settings.add_policy(parser, positional=False)  # only for its time zone
    parser.add_argument("--since", help="only records from this time on: 7d (the last 7 days, today included) or "
                                        "2026-11-01; in the policy's time zone (UTC without a policy)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run_audit)
    return parser
