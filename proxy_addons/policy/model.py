"""The compiled policy: what the loader builds and the engine reads. Immutable once loaded."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from .errors import Problem
from .hosts import DomainIndex, first_tag
from .schedules import Holidays, Schedule

ACTIONS = ("allow", "timebox", "block", "warn")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Quota:
    minutes: int
    per: str  # day | week
    pool: str  # budget name; the rule's own name unless `pool:` is given


@dataclass(frozen=True, slots=True)
class Rule:
    index: int
    name: str
    action: str
    line: int
    groups: frozenset[str] | None = None  # None: everyone
    categories: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    host_tags: frozenset[str] | None = None  # None: every host
    methods: frozenset[str] | None = None
    paths: tuple[str, ...] = ()
    path_regex: re.Pattern[str] | None = None
    when: tuple[Schedule, ...] = ()
    quota: Quota | None = None
    continue_minutes: int = 15
    message: str | None = None
    description: str | None = None
    shadow: bool = False

    @property
    def tag(self) -> str:
        """Index tag of the rule's own `domains:`."""
        return f"r:{self.index}"


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    index: int
    users: frozenset[str] = frozenset()
    subnets: tuple[IPNetwork, ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    domain_count: int
    files: tuple[str, ...] = ()
    description: str | None = None

    @property
    def tag(self) -> str:
        return f"c:{self.name}"


@dataclass(frozen=True, slots=True)
class Privacy:
    min_group_size: int = 5
    audit_log: str = "pseudonymous"  # off | pseudonymous | named
    retention_days: int = 30


@dataclass(frozen=True, slots=True)
class Identity:
    trusted_header: str | None = None
    trusted_proxies: tuple[IPNetwork, ...] = ()


CACHE_SIZE = 16384  # hosts and (user, address) pairs a policy remembers; bounded so memory is too


class HostInfo:
    """What a policy knows of one host regardless of who asks or when (see Policy.host_info)."""

    __slots__ = ("candidates", "category", "rule_category", "tags")

    def __init__(self, tags: frozenset[str], category: str | None, candidates: tuple[Rule, ...],
                 rule_category: dict[int, str | None]) -> None:
        self.tags = tags  # index tags of the host and its parent domains
        self.category = category  # most specific category
        self.candidates = candidates  # rules whose hosts include this one, in order
        self.rule_category = rule_category  # rule index -> category a decision by that rule reports


@dataclass(eq=False)
class Policy:
    source: str
    sha256: str
    version: int
    timezone: ZoneInfo
    holidays: Holidays
    schedules: dict[str, Schedule]
    categories: dict[str, Category]
    groups: dict[str, Group]
    rules: tuple[Rule, ...]
    default: str
    privacy: Privacy
    identity: Identity
    index: DomainIndex
    budgets: dict[str, Quota]
    warnings: list[Problem] = field(default_factory=list)
    _user_groups: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    # bounded memo tables of the hot path (see host_info and groups_of); cleared whole when full
    _hosts: dict[str, HostInfo] = field(default_factory=dict, init=False, repr=False)
    _people: dict[tuple[str | None, str | None], tuple[str, ...]] = field(default_factory=dict, init=False,
                                                                           repr=False)
    _chains: dict[tuple[frozenset[str], ...], HostInfo] = field(default_factory=dict, init=False, repr=False)
    _has_subnets: bool = field(default=False, init=False, repr=False)
    _category_tags: tuple[str, ...] = field(default=(), init=False, repr=False)
    _rule_category_tags: dict[int, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False)
    _periods: dict[str, list[tuple[float, float, str, dt.datetime]]] = field(default_factory=dict, init=False,
                                                                        repr=False)

    def __post_init__(self) -> None:
        by_user: dict[str, list[str]] = {}
        for group in self.groups.values():
            for user in group.users:
                by_user.setdefault(user, []).append(group.name)
        self._user_groups = {u: tuple(g) for u, g in by_user.items()}
        self._has_subnets = any(g.subnets for g in self.groups.values())
        self._category_tags = tuple(c.tag for c in self.categories.values())
        self._rule_category_tags = {r.index: tuple(f"c:{c}" for c in r.categories) for r in self.rules}

    def groups_of(self, user: str | None, ip: str | None = None) -> tuple[str, ...]:
        """Groups of a person in file order (the first is the primary group). Remembered per
        (user, address): parsing an address and testing subnets costs more than the whole decision."""
        key = (user, ip)
        found = self._people.get(key)
        if found is None:
            found = self._groups_of(user, ip)
            if len(self._people) >= CACHE_SIZE:
                self._people.clear()
            self._people[key] = found
        return found

    def _groups_of(self, user: str | None, ip: str | None) -> tuple[str, ...]:
        named = self._user_groups.get(user, ()) if user else ()
        if ip is None or not self._has_subnets:
            return named
        try:
            address = ipaddress.ip_address(ip.split("%")[0])
        except ValueError:
            return named
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        found = set(named)
        for group in self.groups.values():
            if group.name not in found and any(address in net for net in group.subnets):
                found.add(group.name)
        return tuple(g for g in self.groups if g in found)

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
        chain = self.index.chain(host)
        info = self._chains.get(chain)
        if info is None:
            tags: frozenset[str] = frozenset().union(*chain) if chain else frozenset()
            category_tag = first_tag(chain, self._category_tags)
            category = category_tag[2:] if category_tag else None
            candidates = tuple(r for r in self.rules if r.host_tags is None or not r.host_tags.isdisjoint(tags))
            rule_category = {}
            for rule in candidates:
                tag = first_tag(chain, self._rule_category_tags[rule.index]) if rule.categories and chain else None
                rule_category[rule.index] = tag[2:] if tag else category
            info = HostInfo(tags, category, candidates, rule_category)
            if len(self._chains) >= CACHE_SIZE:
                self._chains.clear()
            self._chains[chain] = info
        return info

    def covers(self, host: str, groups: tuple[str, ...] | None = None) -> bool:
        """Whether any rule (shadow rules too) could ever match `host` (normalised); if not, the proxy
        may pass the connection through without decrypting it. With `groups`, only rules that apply
        to a person in those groups count."""
        if self.default != "allow":
            return True
        candidates = self.host_info(host).candidates
        if groups is None:
            return bool(candidates)
        return any(rule.groups is None or not rule.groups.isdisjoint(groups) for rule in candidates)

    def category_of(self, host: str) -> str | None:
        """The most specific category of a (normalised) host, if any."""
        return self.host_info(host).category

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)
