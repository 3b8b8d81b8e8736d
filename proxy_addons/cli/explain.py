"""`gonogo explain POLICY --user U --url URL`: how one request would be decided, rule by rule.

It runs the very `evaluate()` the proxy runs and shows every rule it considered and why it did or did
not match, so an admin sees what a policy does before it goes live.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import sys
from typing import Any

from ..policy.attention import ATTENTIONS, classify
from . import settings
from .check import add_lists_cache, load_or_report


def add_explain(subparsers: Any) -> None:
    p = subparsers.add_parser("explain", help="show how one request would be decided, rule by rule",
                              description="Decide one request with the policy, exactly as the proxy would, "
                                          "and show every rule considered and why it did or did not match.")
    settings.add_policy(p, positional=True)
    add_lists_cache(p)
    p.add_argument("--user", metavar="U", help="user name (leave out, or '', for a client known by address only)")
    p.add_argument("--ip", metavar="IP", help="client address (for groups by subnet); --user or --ip or both")
    p.add_argument("--url", required=True, metavar="URL", help="e.g. https://www.facebook.com/ or facebook.com")
    p.add_argument("--method", default="GET", metavar="M", help="HTTP method (default GET)")
    p.add_argument("--at", metavar="ISO-8601",
                   help="moment of the request, e.g. 2026-11-26T10:00; without an offset it is in the "
                        "policy's time zone (default: now)")
    p.add_argument("--used", type=_minutes, metavar="MINUTES",
                   help="minutes already used this period of the quota that applies")
    p.add_argument("--attention", choices=ATTENTIONS, metavar="KIND",
                   help="what the request shows, as the proxy classifies it: " + ", ".join(ATTENTIONS)
                        + " (default: from --sec-fetch-dest/--sec-fetch-mode; without them, unknown)")
    p.add_argument("--sec-fetch-dest", metavar="DEST", help="the request's Sec-Fetch-Dest, e.g. document, image, empty")
    p.add_argument("--sec-fetch-mode", metavar="MODE", help="the request's Sec-Fetch-Mode, e.g. navigate, cors")
    p.add_argument("--background-kb", type=_minutes, default=0, metavar="KB",
                   help="KB background requests of this person and budget moved so far this minute")
    p.add_argument("--lang", choices=("en", "nl"), default="en",
                   help="language of the texts the person would read: the rule's title and message (default en)")
    p.add_argument("--exception", type=_minutes, metavar="MINUTES",
                   help="as if the person had an approved exception (gonogo requests) to the deciding rule, "
                        "ending MINUTES from the moment of the request")
    p.add_argument("--json", action="store_true", help="print the decision as one JSON object")
    p.add_argument("--offline", action="store_true",
                   help="do not ask the policy's directory for the user's groups (directory groups left out)")
    p.set_defaults(func=cmd_explain)


def _attention(args: argparse.Namespace) -> str:
    """--attention, else what the proxy would make of the given Sec-Fetch-* headers."""
    if args.attention:
        return str(args.attention)
    headers = {"sec-fetch-dest": args.sec_fetch_dest, "sec-fetch-mode": args.sec_fetch_mode}
    return classify(headers.get)


def _minutes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of minutes: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("minutes cannot be negative")
    return value


def cmd_explain(args: argparse.Namespace) -> int:
    from ..policy import BadHost, BudgetUsage, Request, Usage, Who, evaluate
    from ..policy.names import normalize_user

    path = settings.need_policy(args, "explain")
    if path is None:
        return 2
    if args.user is None and args.ip is None:
        return _usage_error("who asks? give --user U, --ip IP or both (--user '' for an anonymous client)")
    policy = load_or_report(path, args.lists_cache)
    if policy is None:
        return 1
    try:
        request = Request.from_url(args.url, args.method, _attention(args), args.background_kb * 1024)
    except (BadHost, ValueError) as exc:
        return _usage_error(f"--url: {exc}")
    if not request.method.isalpha():
        return _usage_error(f"--method: {args.method!r} is not an HTTP method")
    if args.ip is not None:
        try:
            ipaddress.ip_address(args.ip.split("%")[0])
        except ValueError:
            return _usage_error(f"--ip: {args.ip!r} is not an IP address")
    try:
        now = parse_moment(args.at, policy.timezone)
    except ValueError as exc:
        return _usage_error(f"--at: {exc}")
    who = Who(normalize_user(args.user or "") or None, args.ip)
    if who.user and policy.identity.directory is not None:
        who = _with_directory(policy, who, args.offline)
    usage = Usage()
    note = None
    if args.used is not None:
        # which budget would count this request? Decide once without usage, then with it
        first = evaluate(policy, who, request, now)
        if first.quota is None:
            note = "--used ignored: no time-box applies to this request"
        else:
            usage = Usage({first.quota.budget: BudgetUsage(args.used, False, 0, first.quota.period)})
    if args.exception is not None:
        first = evaluate(policy, who, request, now, usage)
        rule = policy.rule(first.rule) if first.rule is not None else None
        if rule is None or rule.exceptions is None:
            note = "--exception ignored: the deciding rule takes no exception requests"
        else:
            until = now + dt.timedelta(minutes=args.exception)
            usage = Usage(usage.budgets, exceptions={rule.name: ("(assumed)", until)})
    trace: list[Any] = []
    decision = evaluate(policy, who, request, now, usage, trace)
    if note:
        print(f"gonogo explain: {note}", file=sys.stderr)
    from ..policy.describe import explain_json, explain_text

    if args.json:
        print(json.dumps(explain_json(policy, who, request, decision, trace, args.lang), ensure_ascii=False))
        return 0

    print(explain_text(policy, who, request, now, decision, trace, args.url, args.lang))
    return 0


def _with_directory(policy: Any, who: Any, offline: bool) -> Any:
    """`who` with the directory groups the directory gives now (a note on stderr when it is not asked)."""
    import dataclasses

    from ..directory import DirectoryError
    from ..directory.online import directory_groups
    from ..policy.wording import text

    if offline:
        print(f"gonogo explain: {text('en', 'explain.directory_offline')}", file=sys.stderr)
        return who
    try:
        return dataclasses.replace(who, groups_from_directory=directory_groups(policy, who.user))
    except DirectoryError as exc:
        print(f"gonogo explain: {text('en', 'explain.directory_failed', why=exc)}", file=sys.stderr)
        return who


def parse_moment(text: str | None, zone: dt.tzinfo) -> dt.datetime:
    """`--at`: ISO-8601; a moment without an offset is wall-clock time in `zone`. None: now."""
    if text is None:
        return dt.datetime.now(zone)
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 moment such as 2026-11-26T10:00 or "
                         "2026-11-26T09:00:00+00:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def _usage_error(message: str) -> int:
    print(f"gonogo explain: error: {message}", file=sys.stderr)
    return 2


