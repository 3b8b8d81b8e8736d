"""Settings every `gonogo` command shares, from the environment, so an admin sets them once.

The systemd units read them from /etc/gonogo/gonogo.env and the compose file sets them on the proxy's
container; an admin shell that loads the same file (`set -a; . /etc/gonogo/gonogo.env; set +a`) makes
`gonogo quota`, `gonogo audit`, `gonogo notice` ... act on exactly the policy, ledger and log the proxy
uses, without retyping a path (and without the risk of naming another one). An option on the command
line always wins over the environment.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..policy import Policy, PolicyError, load_policy
from ..usage import DEFAULT_STATE
from ..usage.statespec import canonical, check_state
from ..usage.statespec import sqlite_path as _sqlite_file

# variable -> what it names, for `gonogo --help`
VARIABLES: dict[str, str] = {
    "GONOGO_POLICY": "the policy file (--policy, or POLICY of check, explain and notice)",
    "GONOGO_STATE": f"the quota ledger (and exception requests), sqlite:PATH or redis://HOST:PORT/DB (--state; default "
                    f"{DEFAULT_STATE})",
    "GONOGO_STATE_DIR": "the proxy's keys and audit log (run --state-dir; audit --dir is its audit/)",
    "GONOGO_CONFDIR": "the CA's directory (ca --confdir; run's mitmproxy confdir)",
}
# not shared by the commands (so not in the deployment's environment files), but read from the environment too
DEVELOPMENT: dict[str, str] = {
    "GONOGO_DEBUG": "1: run keeps Python's debug checks (asserts, mitmproxy's type check of every message); "
                    "for development, ~10 % slower",
}


def env(name: str) -> str | None:
    """A setting from the environment; unset and empty are the same."""
    value = os.environ.get(name, "").strip()
    return value or None


def epilog() -> str:
    lines = ["environment (set once, e.g. in /etc/gonogo/gonogo.env; an option given on the command line wins):"]
    lines += [f"  {name:<17} {what}" for name, what in (VARIABLES | DEVELOPMENT).items()]
    return "\n".join(lines)


def _from(name: str, value: str | None) -> str:
    return f"(default ${name}{f', now {value}' if value else ', unset'})"


def add_policy(parser: argparse.ArgumentParser, *, positional: bool) -> None:
    """POLICY (check, explain, notice) or --policy (run, quota, audit), defaulting to $GONOGO_POLICY;
    `need_policy` says what to do when neither is given (audit can do without: its days are then UTC days)."""
    value = env("GONOGO_POLICY")
    text = f"policy file (YAML) {_from('GONOGO_POLICY', value)}"
    if positional:
        parser.add_argument("policy", nargs="?", default=value, metavar="POLICY", help=text)
    else:
        parser.add_argument("--policy", default=value, metavar="POLICY", help=text)


def need_policy(args: argparse.Namespace, command: str) -> str | None:
    """The policy path, or None after saying how to name one (the caller exits 2)."""
    if args.policy:
        return str(args.policy)
    print(f"gonogo {command}: which policy? Give it (POLICY or --policy) or set GONOGO_POLICY", file=sys.stderr)
    return None


def load_named_policy(args: argparse.Namespace, command: str) -> Policy | None:
    """The admin commands' policy (`--policy` or GONOGO_POLICY), or None after saying what is wrong (exit 2)."""
    path = need_policy(args, command)
    if path is None:
        return None
    try:
        return load_policy(path)
    except PolicyError as e:
        print(e, file=sys.stderr)
        return None


def add_state(parser: argparse.ArgumentParser, what: str) -> None:
    value = env("GONOGO_STATE")
    parser.add_argument("--state", default=value or DEFAULT_STATE, metavar="STORE",
                        help=f"{what}: sqlite:PATH or redis://HOST:PORT/DB {_from('GONOGO_STATE', value)}; "
                             f"without either {DEFAULT_STATE}")


def state_dir(state: str | None = None) -> Path:
    """Where the proxy keeps its keys and audit log: $GONOGO_STATE_DIR, else the SQLite ledger's
    directory, else ./var (what `gonogo run` does with the same settings)."""
    chosen = env("GONOGO_STATE_DIR")
    if chosen:
        return Path(chosen)
    path = sqlite_path(state or env("GONOGO_STATE") or DEFAULT_STATE)
    return path.parent if path is not None else Path("var")


def sqlite_path(state: str) -> Path | None:
    """The file of a `sqlite:PATH` store; None for any other kind."""
    spec = canonical(state)
    return Path(_sqlite_file(spec)) if spec.startswith("sqlite:") else None


def missing_store(state: str) -> Path | None:
    """The file a `sqlite:` store names, when it does not exist; admin commands refuse it instead of
    creating an empty ledger the proxy never reads. A Redis store cannot be told apart from an empty one.
    Raises StateError (a ValueError) for a value that names no store at all."""
    check_state(state)
    path = sqlite_path(state)
    return path if path is not None and str(path) != ":memory:" and not path.exists() else None
