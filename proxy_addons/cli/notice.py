"""`gonogo notice POLICY`: the policy's agreements written out for employees."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .check import add_lists_cache, load_or_report


def add_notice(subparsers: Any) -> None:
    p = subparsers.add_parser("notice", help="write the agreements out for employees",
                              description="The policy's agreements in plain words for employees: what is "
                                          "free, what is limited and how much, when, for whom, what is "
                                          "counted and what is never recorded.")
    p.add_argument("policy", metavar="POLICY", help="policy file (YAML)")
    add_lists_cache(p)
    p.add_argument("--lang", choices=("en", "nl"), default="en", help="language (default en)")
    p.add_argument("--format", choices=("md", "html"), default="md", help="Markdown or HTML (default md)")
    p.set_defaults(func=cmd_notice)


def cmd_notice(args: argparse.Namespace) -> int:
    policy = load_or_report(args.policy, args.lists_cache)
    if policy is None:
        return 1
    from ..tools.notice import render_notice

    sys.stdout.write(render_notice(policy, args.lang, args.format))
    return 0
