"""An admin's view of and hand on the time budgets, on either store (`gonogo quota`, in cli/quota.py).

Budgets are the policy's (`quota.pool`, the rule's name unless pooled); the current period comes from
`period_of`, exactly as the proxy computes it, so what `show` prints is what the proxy enforces.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..policy import Policy, Who, period_of
from ..policy.budgets import budgets_for
from ..usage.ledger import Ledger, period_ttl


@dataclass(frozen=True, slots=True)
class BudgetView:
    budget: str
    rules: tuple[str, ...]
    per: str
    period: str
    used: int
    limit: int
    extra: int
    resets_at: dt.datetime

    @property
    def left(self) -> int:
        return max(0, self.limit + self.extra - self.used)

    def to_json(self) -> dict[str, object]:
        return {"budget": self.budget, "rules": list(self.rules), "per": self.per, "period": self.period,
                "used": self.used, "limit": self.limit, "extra": self.extra,
                "left": self.left, "resets_at": self.resets_at.isoformat()}


async def show(ledger: Ledger, policy: Policy, person: Who, now: dt.datetime, rule: str | None = None
               ) -> list[BudgetView]:
    views = []
    minute = int(now.timestamp() // 60)
    for budget, (quota, rules) in budgets_for(policy, person, rule).items():
        period, resets_at = period_of(quota, now, policy)
        b = await ledger.balance(person.key, budget, period, minute)
        views.append(BudgetView(budget, rules, quota.per, period, b.used, quota.minutes, b.extra, resets_at))
    return views


async def grant(ledger: Ledger, policy: Policy, person: Who, rule: str, minutes: int,
                now: dt.datetime) -> BudgetView:
    ((budget, (quota, _)),) = budgets_for(policy, person, rule).items()
    period, resets_at = period_of(quota, now, policy)
    await ledger.grant(person.key, budget, period, minutes, period_ttl(resets_at, now))
    (view,) = await show(ledger, policy, person, now, rule)
    return view


async def reset(ledger: Ledger, policy: Policy, person: Who, now: dt.datetime,
                rule: str | None = None) -> list[str]:
    done = []
    for budget, (quota, _) in budgets_for(policy, person, rule).items():
        await ledger.reset(person.key, budget, period_of(quota, now, policy)[0])
        done.append(budget)
    return done
