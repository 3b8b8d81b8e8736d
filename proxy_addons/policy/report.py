"""Report: where the loader collects located errors and warnings while compiling one policy file.

Every stage of the loader (schema check, sections, domain lists, rules) reports into the same Report, so
the first error of each kind does not hide the others and an admin fixes a broken file in one pass.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable
from pathlib import Path

from .errors import PolicyError, Problem
from .yamlsource import Pos

DEFAULT_LIST_CACHE = Path("var/lists")  # the gateway's default state directory, `var`, + lists

RESERVED_NAMES = {
    "group": {"other": "groups too small to report", "none": "people in no group"},
    "category": {"none": "hosts in no category", "other": "unknown categories"},
    "rule": {"default": "the policy's default", "other": "unknown rules"},
}


class Report:
    def __init__(self, filename: str, base_dir: Path, text: str, list_cache: Path | None = None) -> None:
        self.filename = filename
        self.base_dir = base_dir  # list files are found relative to the policy file
        self.list_cache = list_cache or DEFAULT_LIST_CACHE  # cached copies of remote lists
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        # the policy's identity covers its list files too: they are hashed as they are read
        self.digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))

    def error(self, pos: Pos, message: str, file: str | None = None) -> None:
        self.errors.append(Problem(file or self.filename, pos[0], pos[1], message))

    def warn(self, pos: Pos, message: str) -> None:
        self.warnings.append(Problem(self.filename, pos[0], pos[1], message, "warning"))

    def fail_if_errors(self) -> None:
        if self.errors:
            unique = sorted(set(self.errors), key=lambda p: (p.file != self.filename, p.file, p.line, p.column))
            raise PolicyError(unique)

    def sorted_warnings(self) -> tuple[Problem, ...]:
        return tuple(sorted(self.warnings, key=lambda p: (p.line, p.column)))

    def not_reserved(self, pos: Pos, what: str, name: str) -> None:
        """Metrics use these words for "no rule", "no group" and "too few people": a policy name equal to
        one would merge two different things on the dashboards."""
        if name in RESERVED_NAMES[what]:
            self.error(pos, f"'{name}' is reserved for the metrics ({RESERVED_NAMES[what][name]}); "
                            f"choose another {what} name")


def suggest(word: object, options: Iterable[str]) -> str:
    """'; did you mean 'x'?' when a close option exists."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def oserror(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
