"""Reading a policy file: YAML -> structural check against the shipped JSON Schema -> semantic checks
-> compiled `Policy`. Every problem is reported with `file:line:column`; the first error of each
kind does not hide the others, so an admin fixes a broken file in one pass.

The stages live beside this module: schemacheck (the JSON Schema), sections (time zone, holidays,
schedules, categories, groups, identity, privacy), domainlists (domain names and list files) and
ruleset (rules and budgets); all report into one report.Report.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from . import sections, yamlsource
from .errors import PolicyError, Problem
from .filelimits import read_bounded
from .hosts import DomainIndex
from .model import Policy
from .report import Report, oserror
from .ruleset import check_reachability, compile_rules
from .schemacheck import check_schema, schema
from .yamlsource import LocDict, LocList

__all__ = ["load_policy", "load_text", "schema"]


def load_policy(path: str | Path, list_cache: Path | None = None) -> Policy:
    """Load and compile a policy file; raises PolicyError (never anything else) when it is not valid.
    Remote lists are read from their copies in `list_cache` (default var/lists), never fetched."""
    path = Path(path)
    try:
        raw = read_bounded(path)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([Problem(str(path), 1, 1, f"cannot read the policy: {oserror(exc)}")]) from None
    return load_text(text, str(path), base_dir=path.parent, list_cache=list_cache)


def load_text(text: str, filename: str = "<policy>", base_dir: Path | None = None,
              list_cache: Path | None = None) -> Policy:
    report = Report(filename, base_dir or Path.cwd(), text, list_cache)
    try:
        doc = _parse(filename, text)
        check_schema(report, doc)
        report.fail_if_errors()
        policy = _compile(report, doc)
        report.fail_if_errors()
        return policy
    except PolicyError:
        raise
    except RecursionError:
        raise PolicyError([Problem(filename, 1, 1, "the document nests too deeply")]) from None


def _parse(filename: str, text: str) -> LocDict:
    try:
        doc = yamlsource.parse(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "not valid YAML"
        raise PolicyError([Problem(filename, *pos, f"YAML: {what}")]) from None
    except yaml.YAMLError as exc:
        raise PolicyError([Problem(filename, 1, 1, f"YAML: {exc}")]) from None
    if not isinstance(doc, LocDict):
        what = "empty" if doc is None else f"a {type(doc).__name__}, not a mapping"
        raise PolicyError([Problem(filename, 1, 1, f"the policy is {what}; it starts with 'version: 1'")])
    return doc


def _compile(report: Report, doc: LocDict) -> Policy:
    tz = sections.timezone(report, doc)
    holidays = sections.holidays(report, doc.get("holidays") or LocDict())
    schedules = sections.schedules(report, doc.get("schedules") or LocDict(), tz, holidays)
    index = DomainIndex()
    categories = sections.categories(report, doc.get("categories") or LocDict(), index)
    identity = sections.identity(report, doc.get("identity") or LocDict())
    groups = sections.groups(report, doc.get("groups") or LocDict(), identity)
    rules, budgets = compile_rules(report, doc.get("rules") or LocList(), schedules, categories, groups, index)
    privacy = sections.privacy(doc.get("privacy") or LocDict())
    organisation = sections.organisation(report, doc.get("organisation") or LocDict())
    check_reachability(report, rules, index)
    return Policy(
        source=report.filename, sha256=report.digest.hexdigest(), version=1, timezone=tz, holidays=holidays,
        schedules=schedules, categories=categories, groups=groups, rules=tuple(rules),
        default=doc.get("default", "allow"), privacy=privacy, identity=identity, index=index,
        budgets=budgets, warnings=report.sorted_warnings(), counting=sections.counting(doc),
        organisation=organisation,
        notify=sections.notify(report, doc.get("notify") or LocDict()),
    )
