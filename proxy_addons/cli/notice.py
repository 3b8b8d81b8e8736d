"""`gonogo notice POLICY`: the policy's agreements written out for employees."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import settings
from .check import add_lists_cache, load_or_report


def add_notice(subparsers: Any) -> None:
    p = subparsers.add_parser("notice", help="write the agreements out for employees",
                              description="The policy's agreements in plain words for employees: what is "
                                          "free, what is limited and how much, when, for whom, what is "
                                          "counted and what is never recorded.")
    settings.add_policy(p, positional=True)
    add_lists_cache(p)
    p.add_argument("--lang", choices=("en", "nl"), default="en", help="language (default en)")
    p.add_argument("--format", choices=("md", "html"), default="md", help="Markdown or HTML (default md)")
    p.add_argument("--status-url", default="http://gonogo.status/", metavar="URL",
                   help="the status page employees open (default http://gonogo.status/, the proxy's "
                        "gonogo_status_host)")
    p.set_defaults(func=cmd_notice)


def cmd_notice(args: argparse.Namespace) -> int:
    path = settings.need_policy(args, "notice")
    if path is None:
        return 2
    policy = load_or_report(path, args.lists_cache)
    if policy is None:
        return 1
    from ..tools.notice import render_notice

    sys.stdout.write(render_notice(policy, args.lang, args.format, args.status_url))
    return 0
