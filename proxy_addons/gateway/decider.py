"""One request's decision with the ledger in the loop: evaluate purely, then charge a time-box minute or
look up a warn-continue only when the decision depends on it, then evaluate again with that usage.

At most one ledger write per (person, budget, minute): a minute already answered is remembered here, and
requests that arrive while its charge is still on its way to the store wait for that same charge (a
browser opens several connections at once). Likewise an active minute is reported to the metrics once per
(person, category, minute), not hashed and looked up again on every request of that minute.

The common request, one more in a minute that is counted already, is decided with a single evaluation: with
the usage this minute's charges left (see `_counted_minute`). Everything else takes the general path.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence

from ..metrics import Metrics
from ..policy import NO_USAGE, BudgetUsage, Decision, Policy, QuotaState, Request, Usage, Who, evaluate
from ..policy.attention import BACKGROUND, UNKNOWN, not_spent_reason
from ..usage import Balance, Charge, Ledger, period_ttl
from . import headsup

log = logging.getLogger("gonogo")

_SEVERITY = {"allow": 0, "warn": 2, "block": 3}
_CACHE_LIMIT = 100_000


def severity(decision: Decision) -> int:
    """Stricter decisions win when a request names two hosts (CONNECT target vs Host header)."""
    return _SEVERITY[decision.decision] + (1 if decision.quota is not None and decision.decision == "allow" else 0)


class Decider:
    def __init__(self, ledger: Ledger, metrics: Metrics, unavailable: str = "allow",
                 on_event: Callable[[str, Policy, Who, Decision, str], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.ledger = ledger
        self.metrics = metrics
        self.unavailable = unavailable
        self.on_event = on_event  # audit hook: (event, policy, person, decision, host)
        self.clock = clock  # seconds since the epoch; tests move it
        # a person's approved exceptions, rule -> (request id, until), with no I/O (gateway/exception_book.py)
        self.exceptions_of: Callable[[str], Mapping[str, tuple[str, dt.datetime]]] | None = None
        self._charges: dict[tuple[str, str, str], tuple[int, Charge]] = {}
        self._pending: dict[tuple[str, str, str], tuple[int, asyncio.Future[Charge | None]]] = {}
        self._exhausted: set[tuple[str, str, str]] = set()
        self._counted: dict[str, tuple[int, Usage]] = {}  # person -> (minute, usage of budgets counted in it)
        self._active_minute = -1
        self._active: set[tuple[str, str]] = set()  # (person, category) reported active in _active_minute
        self._balances: dict[tuple[str, str, str], tuple[int, Balance]] = {}  # for requests that spend nothing
        self._moved: dict[tuple[str, str], tuple[int, int]] = {}  # (person, budget) -> (minute, background bytes)
        self._heads_up_seen: set[tuple[str, str, str]] = set()  # (person, budget, period) that continued past it

    def forget(self) -> None:
        """Drop everything remembered of budgets: an admin granted or reset minutes, or a new policy changed a
        budget's size. The next request of each person asks the store again."""
        for cache in (self._charges, self._exhausted, self._counted, self._balances, self._heads_up_seen):
            cache.clear()

    def peek(self, policy: Policy, person: Who, host: str) -> Decision:
        """The decision without usage (no ledger): enough to know a host is blocked outright."""
        now = dt.datetime.fromtimestamp(self.clock(), policy.timezone)
        return evaluate(policy, person, Request(host), now)

    async def decide(self, policy: Policy, person: Who, hosts: list[str], method: str,
                     path: str, variants: Sequence[tuple[str, str]] = (), attention: str = UNKNOWN
                     ) -> tuple[Decision, str]:
        """`variants`: further (method, path) readings of the same request (method overrides, paths as
        some origins decode them); like the host names, the strictest reading decides. `attention`: what the
        request shows (policy.attention.classify); it decides whether it spends."""
        started = time.perf_counter()
        now = dt.datetime.fromtimestamp(self.clock(), policy.timezone)
        who = person
        groups = policy.groups_of(person.user, person.ip, person.groups_from_directory)
        decision = None if variants else self._counted_minute(policy, person, who, groups, hosts, method, path, now,
                                                              attention)
        if decision is not None:
            return self._settle(policy, person, groups, decision, hosts[0], started, now, attention)
        request = Request(hosts[0], method, path, attention)
        readings = [(method, path), *variants]
        for candidate in hosts:
            for how, where in readings:
                read = Request(candidate, how, where, attention)
                found = evaluate(policy, who, read, now, NO_USAGE, groups=groups)
                if decision is None or severity(found) > severity(decision):
                    decision, request = found, read
        assert decision is not None
        host = request.host
        if self.exceptions_of is not None and decision.rule is not None and decision.action in ("block", "timebox"):
            granted = self.exceptions_of(person.key)
            if decision.rule in granted:  # the engine decides whether it is in force (and for this rule)
                decision = evaluate(policy, who, request, now, Usage(exceptions=granted), groups=groups)
        if decision.decision == "warn" and decision.rule is not None:
            continued = await self._continues(person, now)
            if decision.rule in continued:
                decision = evaluate(policy, who, request, now, Usage(continued=continued), groups=groups)
        quota = decision.quota
        if quota is not None and attention == BACKGROUND and not quota.counts:
            moved = self._moved.get((person.key, quota.budget))
            if moved is not None and moved[0] == quota.minute:  # this minute's background data so far
                request = Request(host, request.method, request.path, attention, moved[1])
                decision = evaluate(policy, who, request, now, NO_USAGE, groups=groups)
                quota = decision.quota
        if quota is None:
            return self._settle(policy, person, groups, decision, host, started, now, attention)
        refused = False
        if quota.charge:
            usage, refused = await self._charge(policy, person, quota)
        else:  # spends nothing: the budget's state decides (a spent budget blocks it)
            usage = await self._balance(person, quota)
        decision = evaluate(policy, who, request, now, usage, groups=groups)
        if decision.quota is not None and decision.quota.heads_up:
            decision = await self._heads_up(policy, person, request, now, usage, groups, decision)
        if refused:
            decision = dataclasses.replace(
                decision, decision="block",
                reason="the time budget cannot be checked right now (quota ledger unreachable)")
        return self._settle(policy, person, groups, decision, host, started, now, attention)

    async def _balance(self, person: Who, quota: QuotaState) -> Usage:
        """The budget's usage for a request that spends nothing: from this minute's charge or balance if one is
        remembered, else one store read (remembered for the rest of the minute)."""
        key = (person.key, quota.budget, quota.period)
        cached = self._charges.get(key)
        if cached is not None and cached[0] == quota.minute:
            return _usage(quota, cached[1])[0]
        seen = self._balances.get(key)
        if seen is None or seen[0] != quota.minute:
            try:
                balance = await self.ledger.balance(person.key, quota.budget, quota.period, quota.minute)
            except Exception:  # the ledger must never break a request: decide as with an empty budget
                log.exception("gonogo: ledger balance failed")
                self.metrics.ledger_error()
                return NO_USAGE
            if len(self._balances) >= _CACHE_LIMIT:
                self._balances.clear()
            seen = self._balances[key] = (quota.minute, balance)
        b = seen[1]
        return Usage(budgets={quota.budget: BudgetUsage(b.used, b.minute_counted, b.extra, quota.period)})

    async def _heads_up(self, policy: Policy, person: Who, request: Request, now: dt.datetime, usage: Usage,
                        groups: tuple[str, ...], decision: Decision) -> Decision:
        """A page load that would show the heads-up: unless the person continued past it this period."""
        quota = decision.quota
        assert quota is not None
        key = (person.key, quota.budget, quota.period)
        if key not in self._heads_up_seen:
            if headsup.key(quota.budget, quota.period) not in await self._continues(person, now):
                return decision
            self._heads_up_seen.add(key)
        budgets = dict(usage.budgets)
        budgets[quota.budget] = dataclasses.replace(budgets.get(quota.budget, BudgetUsage(period=quota.period)),
                                                    heads_up_seen=True)
        return evaluate(policy, person, request, now, Usage(budgets=budgets), groups=groups)

    async def moved(self, policy: Policy, person: Who, decision: Decision, host: str, method: str, path: str,
                    attention: str, size: int) -> None:
        """A background response of `size` bytes arrived: add it to this minute's tally of the person and
        budget, and count the minute once the tally reaches the policy's `counting_background_kb` (a video
        player fetching segments is a person watching; a feed polling now and then is not)."""
        quota = decision.quota
        if quota is None or attention != BACKGROUND or quota.counts or quota.counted or size <= 0:
            return
        if decision.decision != "allow":
            return
        minute = int(self.clock() // 60)
        key = (person.key, quota.budget)
        entry = self._moved.get(key)
        before = entry[1] if entry is not None and entry[0] == minute else 0
        if len(self._moved) >= _CACHE_LIMIT:
            self._moved.clear()
        self._moved[key] = (minute, before + size)
        if before < policy.counting.background_bytes <= before + size:
            now = dt.datetime.fromtimestamp(self.clock(), policy.timezone)
            groups = policy.groups_of(person.user, person.ip, person.groups_from_directory)
            found = evaluate(policy, person, Request(host, method, path, attention, before + size), now, NO_USAGE,
                             groups=groups)
            if found.quota is not None and found.quota.charge:
                await self._charge(policy, person, found.quota)

    async def decide_each(self, policy: Policy, person: Who, hosts: list[str], method: str, path: str,
                          variants: Sequence[tuple[str, str]] = (), attention: str = UNKNOWN) -> tuple[Decision, str]:
        """A request that names several hosts (CONNECT target, SNI, Host, ...), each decided on its own
        account and the strictest result taken: each host's time-box is charged and checked, so naming a
        host with budget left beside one whose budget is spent does not pass."""
        if len(hosts) == 1:
            return await self.decide(policy, person, hosts, method, path, variants, attention)
        found = [await self.decide(policy, person, [host], method, path, variants, attention) for host in hosts]
        return max(found, key=lambda pair: severity(pair[0]))

    def _counted_minute(self, policy: Policy, person: Who, who: Who, groups: tuple[str, ...], hosts: list[str],
                        method: str, path: str, now: dt.datetime, attention: str) -> Decision | None:
        """The decision of a request in a minute already counted for this person, in one evaluation, or None.

        The general path evaluates without usage, finds the time-box rule, takes the charge of the minute
        (from `_charges`, no store call) and evaluates again with it. Which rule decides never depends on
        usage, so evaluating once with the usage of this minute's charges gives that very second result;
        it is taken only when it is such a result (allowed, counted by a charge of this minute). Anything
        else (another budget, a warning, a block, two host names) goes the general way."""
        entry = self._counted.get(person.key)
        if entry is None or len(hosts) != 1 or entry[0] != int(now.timestamp() // 60):
            return None
        if not any(rule.quota is not None for rule in policy.host_info(hosts[0]).candidates):
            return None  # no time-box could decide this host: do not evaluate twice
        usage = entry[1]
        found = evaluate(policy, who, Request(hosts[0], method, path, attention), now, usage, groups=groups)
        quota = found.quota
        if found.decision == "allow" and quota is not None and quota.counted and not quota.heads_up:
            return found  # counted: by this usage
        return None

    def _settle(self, policy: Policy, person: Who, groups: tuple[str, ...], decision: Decision, host: str,
                started: float, now: dt.datetime, attention: str) -> tuple[Decision, str]:
        """Metrics and audit of a decision."""
        label = self.metrics.group_label(groups, person.key)
        self.metrics.decision(decision, label, time.perf_counter() - started)
        quota = decision.quota
        if quota is not None and not quota.counts and not quota.counted and decision.decision == "allow":
            # allowed without attention: not an active minute either
            self.metrics.not_spent(label, decision.category, not_spent_reason(attention))
        elif decision.decision == "allow" and decision.category is not None:
            self._active_in(label, decision.category, person.key, int(now.timestamp() // 60))
        if decision.quota is not None and decision.decision == "block":
            key = (person.key, decision.quota.budget, decision.quota.period)
            if key not in self._exhausted:
                self._exhausted.add(key)
                self.metrics.quota_exhausted(label, decision.category or "none", decision.rule or "default")
                self._event("exhausted", policy, person, decision, host)
        if decision.decision in ("block", "warn"):
            self._event(decision.decision, policy, person, decision, host)
        return decision, host

    def _active_in(self, label: str, category: str, person_key: str, minute: int) -> None:
        """Report an active minute once; the metrics would ignore the repeats, but only after hashing the
        person and taking their lock, on every request."""
        if minute != self._active_minute or len(self._active) >= _CACHE_LIMIT:
            self._active_minute = minute
            self._active.clear()
        key = (person_key, category)
        if key not in self._active:
            self._active.add(key)
            self.metrics.active_minute(label, category, person_key, minute)

    def _event(self, event: str, policy: Policy, person: Who, decision: Decision, host: str) -> None:
        if self.on_event is not None:
            self.on_event(event, policy, person, decision, host)

    async def _continues(self, person: Who, now: dt.datetime) -> dict[str, dt.datetime]:
        try:
            found = await self.ledger.continues(person.key, now.timestamp())
        except Exception:  # the ledger must never break a request; the warning simply shows again
            log.exception("gonogo: ledger lookup of continues failed")
            self.metrics.ledger_error()
            return {}
        return {rule: dt.datetime.fromtimestamp(until, now.tzinfo) for rule, until in found.items()}

    def _remember_counted(self, person_key: str, quota: QuotaState, charge: Charge) -> None:
        """Add a counted minute's budget to the person's usage of that minute (see `_counted_minute`)."""
        entry = self._counted.get(person_key)
        budgets = dict(entry[1].budgets) if entry is not None and entry[0] == quota.minute else {}
        budgets[quota.budget] = _budget_usage(quota, charge)
        self._counted[person_key] = (quota.minute, Usage(budgets=budgets))

    async def _charge(self, policy: Policy, person: Who, quota: QuotaState) -> tuple[Usage, bool]:
        key = (person.key, quota.budget, quota.period)
        cached = self._charges.get(key)
        if cached is not None and cached[0] == quota.minute:
            return _usage(quota, cached[1])
        pending = self._pending.get(key)
        if pending is not None and pending[0] == quota.minute:
            # the same minute is being charged for another request: its answer is this one's too.
            # shield: this request going away must not cancel the charge the others wait for
            charge = await asyncio.shield(pending[1])
            if charge is not None:
                return _usage(quota, charge)
            # that charge failed: ask the store on this request's own account, as if it had come first
        return await self._charge_store(policy, person, quota, key)

    async def _charge_store(self, policy: Policy, person: Who, quota: QuotaState,
                            key: tuple[str, str, str]) -> tuple[Usage, bool]:
        answer: asyncio.Future[Charge | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = (quota.minute, answer)
        charge: Charge | None = None
        try:
            budget = policy.budgets[quota.budget]
            ttl = period_ttl(quota.resets_at, dt.datetime.now(quota.resets_at.tzinfo))
            try:
                charge = await self.ledger.charge(person.key, quota.budget, quota.period, quota.minute,
                                                  budget.minutes, ttl)
            except Exception:
                log.exception("gonogo: ledger charge failed; applying ledger_unavailable=%s", self.unavailable)
                self.metrics.ledger_error()
                fallback = Charge(quota.used - 1, self.unavailable == "allow", False)
                return _usage(quota, fallback)  # not cached: ask the ledger again next time
            if len(self._charges) >= _CACHE_LIMIT:
                self._charges.clear()
                self._exhausted.clear()
                self._counted.clear()
            self._charges[key] = (quota.minute, charge)
            if charge.counted:
                self._remember_counted(person.key, quota, charge)
            return _usage(quota, charge)
        finally:
            answer.set_result(charge)  # None (failed or cancelled): the waiters ask the store themselves
            if self._pending.get(key, (0, None))[1] is answer:
                del self._pending[key]


def _budget_usage(quota: QuotaState, charge: Charge) -> BudgetUsage:
    return BudgetUsage(charge.used, charge.counted, charge.extra, quota.period)


def _usage(quota: QuotaState, charge: Charge) -> tuple[Usage, bool]:
    """The usage to decide with, and whether the ledger refused a minute the budget still had room for
    (an outage with ledger_unavailable=block): the engine would otherwise assume the minute is charged."""
    usage = Usage(budgets={quota.budget: _budget_usage(quota, charge)})
    return usage, not charge.counted and charge.used < quota.limit + charge.extra
