"""Lookups: the indexes compiled from a Policy once at load, and the bounded memo tables of the hot path.

A `Policy` is an immutable value; this is the one mutable thing beside it. Everything kept here follows
from the policy alone (plus the host, person or instant asked about), so remembering it never changes an
answer, only its cost. Every memo table is bounded by CACHE_SIZE entries and cleared whole when full: a
proxy sees the same few hundred hosts and people all day, and a flood of new ones cannot grow memory.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .hosts import DomainIndex, first_tag
from .names import normalize_user

if TYPE_CHECKING:
    from .model import Category, Group, Rule

CACHE_SIZE = 16384  # hosts and (user, address) pairs a policy remembers; bounded so memory is too


class HostInfo:
    """What a policy knows of one host regardless of who asks or when (see Lookups.host_info)."""

    __slots__ = ("candidates", "category", "rule_category", "tags")

    def __init__(self, tags: frozenset[str], category: str | None, candidates: tuple[Rule, ...],
                 rule_category: dict[int, str | None]) -> None:
        self.tags = tags  # index tags of the host and its parent domains
        self.category = category  # most specific category
        self.candidates = candidates  # rules whose hosts include this one, in order
        self.rule_category = rule_category  # rule index -> category a decision by that rule reports


Period = tuple[float, float, str, dt.datetime]  # start and end timestamps, key, resets_at


class Lookups:
    """Compiled from a policy's groups, categories, rules, domain index and time zone; answers the
    questions the engine asks on every request, remembering the answers in bounded tables."""

    __slots__ = ("_category_tags", "_chains", "_groups", "_has_subnets", "_hosts", "_index", "_people",
                 "_periods", "_rule_category_tags", "_rules", "_timezone", "_user_groups")

    def __init__(self, groups: Mapping[str, Group], categories: Mapping[str, Category], rules: tuple[Rule, ...],
                 index: DomainIndex, timezone: ZoneInfo) -> None:
        by_user: dict[str, list[str]] = {}
        for group in groups.values():
            for user in group.users:
                by_user.setdefault(user, []).append(group.name)
        self._groups = tuple(groups.values())
        self._rules = rules
        self._index = index
        self._timezone = timezone
        self._user_groups = {u: tuple(g) for u, g in by_user.items()}
        self._has_subnets = any(g.subnets for g in self._groups)
        self._category_tags = tuple(c.tag for c in categories.values())
        self._rule_category_tags = {r.index: tuple(f"c:{c}" for c in r.categories) for r in rules}
        # the memo tables
        self._hosts: dict[str, HostInfo] = {}
        self._people: dict[tuple[object, ...], tuple[str, ...]] = {}
        self._chains: dict[tuple[frozenset[str], ...], HostInfo] = {}
        self._periods: dict[str, list[Period]] = {}

    def groups_of(self, user: str | None, ip: str | None = None,
                  directory: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Groups of a person in file order (the first is the primary group): by user name (normalised, see
        names.normalize_user), by address, and the `directory` groups the gateway found the person in.
        Remembered per (user, address[, directory groups]): parsing an address and testing subnets costs
        more than the whole decision."""
        key: tuple[object, ...] = (user, ip, directory) if directory else (user, ip)
        found = self._people.get(key)
        if found is None:
            found = self._groups_of(user, ip)
            if directory:
                found = self._with_directory(found, directory)
            if len(self._people) >= CACHE_SIZE:
                self._people.clear()
            self._people[key] = found
        return found

    def _with_directory(self, found: tuple[str, ...], directory: tuple[str, ...]) -> tuple[str, ...]:
        """`found` and the directory's groups, in file order; names the policy does not have are ignored."""
        extra = set(directory).difference(found)
        if not extra:
            return found
        known = set(found) | extra
        return tuple(g.name for g in self._groups if g.name in known)

    def _groups_of(self, user: str | None, ip: str | None) -> tuple[str, ...]:
        named = (self._user_groups.get(user) or self._user_groups.get(normalize_user(user), ())) if user else ()
        if ip is None or not self._has_subnets:
            return named
        try:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(ip.split("%")[0])
        except ValueError:
            return named
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        found = set(named)
        for group in self._groups:
            if group.name not in found and any(address in net for net in group.subnets):
                found.add(group.name)
        return tuple(g.name for g in self._groups if g.name in found)

    def host_info(self, host: str) -> HostInfo:
        """Everything about a (normalised) host that does not depend on who asks or when, worked out
        in one pass over its suffixes and remembered: a proxy sees the same few hundred hosts all day."""
        info = self._hosts.get(host)
        if info is None:
            info = self._host_info(host)
            if len(self._hosts) >= CACHE_SIZE:
                self._hosts.clear()
            self._hosts[host] = info
        return info

    def _host_info(self, host: str) -> HostInfo:
        # Everything in HostInfo follows from the host's chain of listed suffixes, and the hosts of a
        # site share one (every *.facebook.com has the chain of facebook.com): one HostInfo per chain.
        chain = self._index.chain(host)
        info = self._chains.get(chain)
        if info is None:
            tags: frozenset[str] = frozenset().union(*chain) if chain else frozenset()
            category_tag = first_tag(chain, self._category_tags)
            category = category_tag[2:] if category_tag else None
            candidates = tuple(r for r in self._rules if r.host_tags is None or not r.host_tags.isdisjoint(tags))
            rule_category: dict[int, str | None] = {}
            for rule in candidates:
                tag = first_tag(chain, self._rule_category_tags[rule.index]) if rule.categories and chain else None
                rule_category[rule.index] = tag[2:] if tag else category
            info = HostInfo(tags, category, candidates, rule_category)
            if len(self._chains) >= CACHE_SIZE:
                self._chains.clear()
            self._chains[chain] = info
        return info

    def period_at(self, per: str, ts: float, now: dt.datetime) -> tuple[str, dt.datetime]:
        """The key of the `per` (day | week) period holding instant `ts` (= `now`) and when it ends
        (local midnight; weeks start on Monday)."""
        # A period stays the same from the first instant it was asked about until it ends; remembering
        # that range saves two time-zone conversions per time-boxed request. A few periods are kept, so
        # looking ahead (when does access return?) does not evict the present.
        known = self._periods.get(per, ())
        for start, end, key, resets_at in known:
            if start <= ts < end:
                return key, resets_at
        local = now.astimezone(self._timezone)
        day = local.date()
        if per == "week":
            start_day = day - dt.timedelta(days=day.weekday())
            end_day = start_day + dt.timedelta(days=7)
            key = f"week-{start_day.isoformat()}"
        else:
            end_day = day + dt.timedelta(days=1)
            key = day.isoformat()
        resets_at = dt.datetime.combine(end_day, dt.time(0), self._timezone)
        self._periods[per] = [(ts, resets_at.timestamp(), key, resets_at), *known[:3]]
        return key, resets_at

    def sizes(self) -> dict[str, int]:
        """Entries in each memo table (for tests and benchmarks: they must stay bounded)."""
        return {"hosts": len(self._hosts), "people": len(self._people), "chains": len(self._chains),
                "periods": len(self._periods)}

    def forget_hosts(self) -> None:
        """Empty the per-host table, so the next host_info works from the domain index (benchmarks
        measure that cost)."""
        self._hosts.clear()
