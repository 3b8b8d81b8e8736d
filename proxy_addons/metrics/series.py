"""The collectors `Metrics` builds on demand and the series it creates at 0 for a policy.

Why apart from `collect.py`: they depend on the policy's shape only, not on the per-person state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge

from .names import DEFAULT_RULE, LIST_INFO, LIST_REFRESHES, NONE, NOT_SPENT

if TYPE_CHECKING:
    from ..policy import Policy

_OUTCOMES = {"allow": ("allow",), "block": ("block",), "warn": ("warn", "allow"), "timebox": ("allow", "block")}
ZeroPlan = tuple[tuple[Counter, frozenset[str] | None, tuple[str, ...]], ...]


def not_spent_counter(registry: CollectorRegistry) -> Counter:
    """`NOT_SPENT`: the "open tab" use that fair counting (policy/attention.py) did not charge."""
    return Counter(NOT_SPENT, "Time-boxed requests allowed without spending a minute (no attention: background "
                   "polls, server pushes, ...), by primary group, category and reason.",
                   ("group", "category", "reason"), registry=registry)


def list_collectors(registry: CollectorRegistry) -> tuple[Counter, Gauge]:
    """The category-list metrics: refresh results, and which lists each category has in force."""
    refreshes = Counter(LIST_REFRESHES, "Fetches of a category's remote lists, by result: updated, unchanged (304 "
                        "or same bytes), failed, rejected (implausible download; the last copy stays).",
                        ("category", "result"), registry=registry)
    info = Gauge(LIST_INFO, "The lists of a category in force (value 1): sha256 of their contents and the "
                 "category's distinct domains. Not part of gonogo_policy_info's sha256.",
                 ("category", "sha256", "entries"), registry=registry)
    return refreshes, info


def zero_plan(policy: Policy, requests: Counter, shadow: Counter, minutes: Counter, exhausted: Counter,
               continues: Counter) -> ZeroPlan:
    """(counter, groups the series can occur for (None: all), labels after `group`) to create at 0. Bounded
    by the policy: each rule x the categories it can match x the decisions its action can give, for the
    groups it applies to; the default x every category; active minutes per category."""
    everywhere = (*policy.categories, NONE)
    plan: list[tuple[Counter, frozenset[str] | None, tuple[str, ...]]] = [
        (minutes, None, (category,)) for category in policy.categories]
    plan += [(requests, None, (category, DEFAULT_RULE, policy.default)) for category in everywhere]
    for rule in policy.rules:
        categories = rule.categories or everywhere
        for category in categories:
            for outcome in _OUTCOMES.get(rule.action, ()):
                plan.append((shadow if rule.shadow else requests, rule.groups, (category, rule.name, outcome)))
            if rule.shadow:
                continue
            if rule.quota is not None:
                plan.append((exhausted, rule.groups, (category, rule.name)))
            if rule.action == "warn":
                plan.append((continues, rule.groups, (category, rule.name)))
    return tuple(plan)
