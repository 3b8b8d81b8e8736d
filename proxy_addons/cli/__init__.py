"""The `gonogo` command: see what a policy does before it goes live.

`check` validates and summarises a policy, `explain` shows how one request would be decided (the
very `evaluate()` the proxy runs, with every rule it considered) and `notice` writes the agreements
out for employees. Other commands (`run`, `quota`, `audit`) live with their owners and are registered
below when their module is there.

Each command is added by a function `add_<name>(subparsers)` that creates its parser and sets
`func` to a callable taking the parsed arguments and returning the exit code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import ipaddress
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

# Commands that live beside the code they drive: (module, function); each offers `add_<name>(subparsers)`.
# They are imported only here, lazily, so a missing or broken module takes away its command only.
OTHER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("proxy_addons.cli.run", "add_run"),  # gonogo run
    ("proxy_addons.tools.quota", "add_quota"),  # gonogo quota
    ("proxy_addons.audit", "add_audit"),  # gonogo audit
    ("proxy_addons.tools.ca", "add_ca"),  # gonogo ca
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
    except BrokenPipeError:  # `gonogo notice ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gonogo",
        description="Go, time-box or no-go: workplace social-media policy for a mitmproxy gateway.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_check(subparsers)
    add_explain(subparsers)
    add_notice(subparsers)
    # --- commands of other owners -------------------------------------------------------------
    unavailable: dict[str, str] = {}
    for module_name, function in OTHER_COMMANDS:
        try:
            module = importlib.import_module(module_name)
            add = getattr(module, function)
        except ImportError as exc:
            if not _is_missing(exc, module_name):
                # the module is there but cannot be imported: say why in --help instead of hiding it
                unavailable[function.removeprefix("add_")] = f"{type(exc).__name__}: {exc}"
            continue
        except AttributeError:
            unavailable[function.removeprefix("add_")] = f"{module_name} has no {function}()"
            continue
        add(subparsers)
    if unavailable:
        parser.epilog = "unavailable: " + "; ".join(f"{name} ({why})" for name, why in unavailable.items())
    return parser


def _is_missing(exc: ImportError, module_name: str) -> bool:
    """True when the command's module itself (or a package above it) does not exist yet."""
    missing = getattr(exc, "name", None)
    return isinstance(exc, ModuleNotFoundError) and missing is not None and (
        module_name == missing or module_name.startswith(missing + ".")
    )


# --- gonogo check --------------------------------------------------------------------------------


def add_check(subparsers: Any) -> None:
    p = subparsers.add_parser("check", help="validate a policy and summarise it",
                              description="Validate a policy; exit 0 with a summary when valid, 1 with "
                                          "file:line:col errors when not. Warnings never fail.")
    p.add_argument("policy", metavar="POLICY", help="policy file (YAML)")
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    policy = _load(args.policy)
    if policy is None:
        return 1
    _print_warnings(policy)
    from ..policy.describe import summarise

    print(summarise(policy))
    return 0


def _load(path: str) -> Any:
    """The policy, or None after printing its errors (and warnings) as `file:line:col: error: ...`."""
    from ..policy import PolicyError, load_policy

    try:
        return load_policy(path)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def _print_warnings(policy: Any) -> None:
    for warning in policy.warnings:
        print(warning, file=sys.stderr)


# --- gonogo explain ------------------------------------------------------------------------------


def add_explain(subparsers: Any) -> None:
    p = subparsers.add_parser("explain", help="show how one request would be decided, rule by rule",
                              description="Decide one request with the policy, exactly as the proxy would, "
                                          "and show every rule considered and why it did or did not match.")
    p.add_argument("policy", metavar="POLICY", help="policy file (YAML)")
    p.add_argument("--user", required=True, metavar="U", help="user name ('' for an anonymous client)")
    p.add_argument("--ip", metavar="IP", help="client address (for groups by subnet)")
    p.add_argument("--url", required=True, metavar="URL", help="e.g. https://www.facebook.com/ or facebook.com")
    p.add_argument("--method", default="GET", metavar="M", help="HTTP method (default GET)")
    p.add_argument("--at", metavar="ISO-8601",
                   help="moment of the request, e.g. 2026-11-26T10:00; without an offset it is in the "
                        "policy's time zone (default: now)")
    p.add_argument("--used", type=_minutes, metavar="MINUTES",
                   help="minutes already used this period of the quota that applies")
    p.add_argument("--json", action="store_true", help="print the decision as one JSON object")
    p.set_defaults(func=cmd_explain)


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

    policy = _load(args.policy)
    if policy is None:
        return 1
    try:
        request = Request.from_url(args.url, args.method)
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
    who = Who(args.user or None, args.ip)
    usage = Usage()
    note = None
    if args.used is not None:
        # which budget would count this request? Decide once without usage, then with it
        first = evaluate(policy, who, request, now)
        if first.quota is None:
            note = "--used ignored: no time-box applies to this request"
        else:
            usage = Usage({first.quota.budget: BudgetUsage(args.used, False, 0, first.quota.period)})
    trace: list[Any] = []
    decision = evaluate(policy, who, request, now, usage, trace)
    if note:
        print(f"gonogo explain: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(decision.to_json(), ensure_ascii=False))
        return 0
    from ..policy.describe import explain_text

    print(explain_text(policy, who, request, now, decision, trace, args.url))
    return 0


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


# --- gonogo notice -------------------------------------------------------------------------------


def add_notice(subparsers: Any) -> None:
    p = subparsers.add_parser("notice", help="write the agreements out for employees",
                              description="The policy's agreements in plain words for employees: what is "
                                          "free, what is limited and how much, when, for whom, what is "
                                          "counted and what is never recorded.")
    p.add_argument("policy", metavar="POLICY", help="policy file (YAML)")
    p.add_argument("--lang", choices=("en", "nl"), default="en", help="language (default en)")
    p.add_argument("--format", choices=("md", "html"), default="md", help="Markdown or HTML (default md)")
    p.set_defaults(func=cmd_notice)


def cmd_notice(args: argparse.Namespace) -> int:
    policy = _load(args.policy)
    if policy is None:
        return 1
    from ..tools.notice import render_notice

    sys.stdout.write(render_notice(policy, args.lang, args.format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
