"""Compiling a policy's `rules:`: references to groups, categories and schedules resolved, domains put in
the index under the rule's own tag, quotas gathered into shared budgets, and a warning for every rule an
earlier one always beats."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

from .domainlists import domains
from .hosts import DomainIndex
from .model import Category, ExceptionPolicy, Group, Quota, Rule
from .report import Report, suggest
from .schedules import Schedule
from .sections import localized_text
from .yamlsource import LocDict, LocList, Pos

_METHOD = re.compile(r"[A-Z]+")


class _Budgets:
    """The budgets (quota pools) of the rules so far, and where each was first given."""

    def __init__(self) -> None:
        self.quotas: dict[str, Quota] = {}
        self.positions: dict[str, Pos] = {}


def compile_rules(report: Report, items: LocList, schedules: dict[str, Schedule], categories: dict[str, Category],
                  groups: dict[str, Group], index: DomainIndex) -> tuple[list[Rule], dict[str, Quota]]:
    rules: list[Rule] = []
    budgets = _Budgets()
    seen: dict[str, int] = {}
    for i, body in enumerate(items):
        pos = items.item_pos[i]
        name = body["name"]
        report.not_reserved(body.value_pos["name"], "rule", name)
        if name in seen:
            report.error(body.value_pos["name"], f"duplicate rule name '{name}' (first used at line {seen[name]})")
        seen.setdefault(name, pos[0])
        ref_groups = _refs(report, body, "groups", groups, "group")
        ref_categories = _refs(report, body, "categories", categories, "category")
        ref_schedules = _refs(report, body, "when", schedules, "schedule")
        own = tuple(domains(report, body.get("domains") or LocList(), f"rule '{name}'"))
        index.add_many(own, f"r:{i}")
        paths = tuple(body.get("paths") or ())
        rules.append(Rule(
            index=i, name=name, action=body["action"], line=pos[0],
            groups=frozenset(ref_groups) if "groups" in body else None,
            categories=tuple(ref_categories), domains=own,
            host_tags=_host_tags(report, body, pos, i, ref_categories, own),
            methods=_methods(report, body), paths=paths, path_regex=_path_regex(report, body, paths),
            when=tuple(schedules[s] for s in ref_schedules), quota=_quota(report, body, budgets),
            continue_minutes=body.get("continue_minutes", 15), shadow=bool(body.get("shadow", False)),
            message=localized_text(report, body, "message", f"rule '{name}'"),
            description=localized_text(report, body, "description", f"rule '{name}'"),
            title=localized_text(report, body, "title", f"rule '{name}'"),
            counting=_counting(report, body),
            exceptions=_exceptions(report, body),
        ))
    return rules, budgets.quotas


def _host_tags(report: Report, body: LocDict, pos: Pos, i: int, ref_categories: list[str],
               own: tuple[str, ...]) -> frozenset[str] | None:
    """The index tags of the hosts a rule covers; None when it names no hosts and so covers them all."""
    if "categories" in body or "domains" in body:
        return frozenset([f"c:{c}" for c in ref_categories] + ([f"r:{i}"] if own else []))
    report.warn(pos, f"rule '{body['name']}' names no categories or domains, so it covers every host "
                          "(no traffic can pass through undecrypted)")
    return None


def _methods(report: Report, body: LocDict) -> frozenset[str] | None:
    if "methods" not in body:
        return None
    for j, m in enumerate(body["methods"]):
        if not _METHOD.fullmatch(str(m).upper()):
            report.error(body["methods"].item_pos[j], f"rule '{body['name']}': {m!r} is not an HTTP method")
    return frozenset(str(m).upper() for m in body["methods"])


def _path_regex(report: Report, body: LocDict, paths: tuple[str, ...]) -> re.Pattern[str] | None:
    for j, p in enumerate(paths):
        if not p.startswith("/"):
            report.error(body["paths"].item_pos[j], f"rule '{body['name']}': path pattern {p!r} must start with '/'")
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in paths)) if paths else None


def _counting(report: Report, body: LocDict) -> str | None:
    """A rule's own `counting:`; it only means something for a time-box."""
    if "counting" in body and body["action"] != "timebox":
        report.error(body.key_pos["counting"], f"rule '{body['name']}': counting only applies to action timebox, "
                     f"not {body['action']}")
    value = body.get("counting")
    return str(value) if value is not None else None


def _quota(report: Report, body: LocDict, budgets: _Budgets) -> Quota | None:
    """The quota of a timebox rule, checked against the budget it shares with earlier rules; and errors for
    settings that do not apply to the rule's action."""
    name, action, vp = body["name"], body["action"], body.value_pos
    quota = None
    if action == "timebox":
        if "quota" not in body:
            report.error(vp["action"], f"rule '{name}': a timebox needs a quota, e.g. quota: {{minutes: 30, per: day}}")
        else:
            q = body["quota"]
            quota = Quota(q["minutes"], q["per"], q.get("pool", name), q.get("heads_up"))
            if quota.heads_up is not None and quota.heads_up >= quota.minutes:
                report.error(q.value_pos["heads_up"], f"rule '{name}': heads_up ({quota.heads_up}) must be less "
                             f"than the budget's {quota.minutes} minutes")
            earlier = budgets.quotas.get(quota.pool)
            if earlier is not None and (earlier.minutes, earlier.per, earlier.heads_up) != (
                    quota.minutes, quota.per, quota.heads_up):
                heads_up = f" with heads_up {earlier.heads_up}" if earlier.heads_up is not None else ""
                report.error(vp["quota"], f"rule '{name}': pool '{quota.pool}' is {earlier.minutes} minutes "
                             f"per {earlier.per}{heads_up} at line {budgets.positions[quota.pool][0]}; rules sharing "
                             "a pool must agree")
            budgets.quotas.setdefault(quota.pool, quota)
            budgets.positions.setdefault(quota.pool, vp["quota"])
    elif "quota" in body:
        report.error(body.key_pos["quota"], f"rule '{name}': quota only applies to action timebox, not {action}")
    if "continue_minutes" in body and action != "warn":
        report.error(body.key_pos["continue_minutes"], f"rule '{name}': continue_minutes only applies to action warn")
    return quota


def _exceptions(report: Report, body: LocDict) -> ExceptionPolicy | None:
    """`exceptions:` opts a block or timebox rule in to requests from its block page."""
    spec = body.get("exceptions")
    if spec is None:
        return None
    name, action = body["name"], body["action"]
    if action not in ("block", "timebox"):
        report.error(body.key_pos["exceptions"], f"rule '{name}': exceptions only apply to action block or timebox, "
                                                 f"not {action}")
        return None
    if body.get("shadow"):
        report.error(body.key_pos["exceptions"], f"rule '{name}': a shadow rule never blocks, so nobody can ask "
                                                 "for an exception to it")
        return None
    return ExceptionPolicy(int(spec["max_minutes"]))


def _refs(report: Report, body: LocDict, key: str, known: Mapping[str, Any], what: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    names = [value] if isinstance(value, str) else list(value)
    positions = [body.value_pos[key]] * len(names) if isinstance(value, str) else value.item_pos
    found = []
    for name, pos in zip(names, positions, strict=True):
        if name in known:
            found.append(name)
        else:
            report.error(pos, f"rule '{body['name']}': unknown {what} '{name}'{suggest(name, list(known))}")
    return found


def check_reachability(report: Report, rules: list[Rule], index: DomainIndex) -> None:
    """Warn about rules that can never decide because an earlier rule always wins."""
    for later in rules:
        if later.shadow:
            continue
        for earlier in rules[: later.index]:
            if earlier.shadow or earlier.when or earlier.methods is not None or earlier.paths:
                continue
            if earlier.groups is not None and (later.groups is None or not later.groups <= earlier.groups):
                continue
            if earlier.host_tags is not None:
                if later.host_tags is None:
                    continue
                cats_covered = all(f"c:{c}" in earlier.host_tags for c in later.categories)
                if not cats_covered or not all(earlier.host_tags & index.tags(d) for d in later.domains):
                    continue
            report.warn((later.line, 1), f"rule '{later.name}' can never match: rule '{earlier.name}' "
                                         f"(line {earlier.line}) always decides first")
            break
