"""`gonogo ca init | show`: create the proxy's CA once, show what to distribute and how to recognise it.

The CA work is tools/ca.py's; this module reads the arguments and prints the result.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..tools.ca import CA_FILE, DEFAULT_CN, DEFAULT_CONFDIR, DEFAULT_ORGANIZATION, CaError, CaInfo, init_ca, show_ca
from . import settings


def add_ca(subparsers: Any) -> argparse.ArgumentParser:
    """Register `gonogo ca init|show` on the CLI's subparsers; the handler is `args.func(args) -> exit code`."""
    parser = subparsers.add_parser("ca", help="create or show the proxy's CA (the certificate clients trust)",
                                   description="The CA gonogo signs decrypted sites with: create it once, show "
                                               "what to distribute and how to recognise it.")
    commands = parser.add_subparsers(dest="ca_command", metavar="ACTION", required=True)
    confdir = settings.env("GONOGO_CONFDIR")
    confdir_help = (f"mitmproxy's confdir, where the CA lives (default $GONOGO_CONFDIR"
                    f"{f', now {confdir}' if confdir else ''}, else {DEFAULT_CONFDIR}, as for `gonogo run`)")

    init = commands.add_parser(
        "init", help="create the CA unless there is one; write the files for clients",
        description=f"Create the CA in the confdir unless {CA_FILE} is there already (an existing CA, e.g. a "
                    "sub-CA of the company PKI, is never replaced), write the certificate files for clients when "
                    "missing, and print what to distribute. Safe to run at every start, by several processes "
                    "at once.")
    init.add_argument("--confdir", default=confdir or DEFAULT_CONFDIR, metavar="DIR", help=confdir_help)
    init.add_argument("--cn", default=DEFAULT_CN, metavar="NAME",
                      help=f"common name of a new CA: what people see on their devices (default {DEFAULT_CN!r})")
    init.add_argument("--organization", default=DEFAULT_ORGANIZATION, metavar="ORG",
                      help=f"organisation of a new CA (default {DEFAULT_ORGANIZATION!r})")
    init.add_argument("--json", action="store_true", help="print the result as one JSON object")
    init.set_defaults(func=cmd_init)

    show = commands.add_parser("show", help="show the CA: certificate path, subject, validity, fingerprints",
                               description="Show the CA in the confdir without changing anything; exit 1 when "
                                           "there is none.")
    show.add_argument("--confdir", default=confdir or DEFAULT_CONFDIR, metavar="DIR", help=confdir_help)
    show.add_argument("--json", action="store_true", help="print the CA as one JSON object")
    show.set_defaults(func=cmd_show)
    return parser


def cmd_init(args: argparse.Namespace) -> int:
    confdir = Path(args.confdir).expanduser()
    try:
        info = init_ca(confdir, cn=args.cn, organization=args.organization)
    except CaError as exc:
        print(f"gonogo ca init: error: {exc}", file=sys.stderr)
        return 1
    if info.created:
        headline = f"created a new CA in {confdir}"
    else:
        headline = f"kept the existing CA in {confdir}"
        if args.cn != DEFAULT_CN or args.organization != DEFAULT_ORGANIZATION:
            headline += " (--cn and --organization name a new CA only)"
    return _report(info, args.json, headline)


def cmd_show(args: argparse.Namespace) -> int:
    confdir = Path(args.confdir).expanduser()
    try:
        info = show_ca(confdir)
    except CaError as exc:
        print(f"gonogo ca show: error: {exc}", file=sys.stderr)
        return 1
    return _report(info, args.json, None)


def _report(info: CaInfo, as_json: bool, headline: str | None) -> int:
    for warning in info.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if as_json:
        print(json.dumps(info.to_json(), indent=2))
        return 0
    if headline:
        print(headline)
    for note in info.notes:
        print(note)
    print(info.describe())
    return 0
