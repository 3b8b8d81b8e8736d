"""The `gonogo` command: one module per command group, listed in COMMANDS.

Each command module offers `add_<name>(subparsers)`, which creates its parser and sets `func` to a
callable taking the parsed arguments and returning the exit code. The work itself lives elsewhere
(policy/, tools/, usage/); these modules only turn arguments into calls and results into output.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# The command modules, in the order `gonogo --help` lists them: (module, function adding the command).
# They are imported here, one by one, so a missing or broken module takes away its own command only.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("proxy_addons.cli.check", "add_check"),  # gonogo check
    ("proxy_addons.cli.explain", "add_explain"),  # gonogo explain
    ("proxy_addons.cli.notice", "add_notice"),  # gonogo notice
    ("proxy_addons.cli.run", "add_run"),  # gonogo run
    ("proxy_addons.cli.quota", "add_quota"),  # gonogo quota
    ("proxy_addons.cli.requests", "add_requests"),  # gonogo requests
    ("proxy_addons.cli.audit", "add_audit"),  # gonogo audit
    ("proxy_addons.cli.ca", "add_ca"),  # gonogo ca
    ("proxy_addons.cli.lists", "add_lists"),  # gonogo lists
)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["run"]:  # the command itself, not a test calling main([...])
        from .optimized import rerun_optimized

        rerun_optimized()
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
    unavailable: dict[str, str] = {}
    for module_name, function in COMMANDS:
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
    _environment_in_help(parser)
    return parser


class _Formatter(argparse.HelpFormatter):
    """argparse's wrapping, except for the table of environment variables."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("environment"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _environment_in_help(parser: argparse.ArgumentParser) -> None:
    """Every command's --help ends with the settings it takes from the environment (cli/settings.py)."""
    from .settings import epilog

    parser.formatter_class = _Formatter
    parser.epilog = "\n\n".join(filter(None, [epilog(), parser.epilog]))
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _environment_in_help(sub)


def _is_missing(exc: ImportError, module_name: str) -> bool:
    """True when the command's module itself (or a package above it) does not exist."""
    missing = getattr(exc, "name", None)
    return isinstance(exc, ModuleNotFoundError) and missing is not None and (
        module_name == missing or module_name.startswith(missing + ".")
    )
