"""Which time budgets apply to a person: shared by the status page (what is left for me) and `gonogo quota`
(what the admin may grant or reset), so both always name the same budgets."""

from __future__ import annotations

from .engine import Who
from .model import Policy, Quota
from .report import suggest


class BudgetLookupError(ValueError):
    """An unknown rule, or a rule without a quota: the admin named something the policy does not have."""


def budgets_for(policy: Policy, person: Who, rule: str | None = None) -> dict[str, tuple[Quota, tuple[str, ...]]]:
    """Budget -> (quota, names of its rules) for the time-box rules that apply to `person` by name or
    address (or just the budget of `rule`, whoever it applies to)."""
    if rule is not None:
        found = policy.rule(rule)
        if found is None:
            timeboxes = [r.name for r in policy.rules if r.quota is not None]
            raise BudgetLookupError(f"no rule named {rule!r} in {policy.source}"
                                    f"{suggest(rule, timeboxes) or suggest(rule, [r.name for r in policy.rules])}")
        if found.quota is None:
            raise BudgetLookupError(f"rule {rule!r} has action {found.action}, not timebox: it has no time budget")
        pool = found.quota.pool
        return {pool: (policy.budgets.get(pool, found.quota),
                       tuple(r.name for r in policy.rules if r.quota and r.quota.pool == pool))}
    groups = set(policy.groups_of(person.user, person.ip, person.groups_from_directory))
    result: dict[str, tuple[Quota, tuple[str, ...]]] = {}
    for r in policy.rules:
        if r.quota is None or (r.groups is not None and r.groups.isdisjoint(groups)):
            continue
        quota, names = result.get(r.quota.pool, (policy.budgets.get(r.quota.pool, r.quota), ()))
        result[r.quota.pool] = (quota, (*names, r.name))
    return result
