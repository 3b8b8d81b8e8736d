"""The compiled policy: what the loader builds and the engine reads. Immutable once loaded."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from .errors import Problem
from .hosts import DomainIndex
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
    _catch_all: bool = field(default=False, repr=False)
    _rule_tags: frozenset[str] = field(default=frozenset(), repr=False)

    def __post_init__(self) -> None:
        by_user: dict[str, list[str]] = {}
        for group in self.groups.values():
            for user in group.users:
                by_user.setdefault(user, []).append(group.name)
        self._user_groups = {u: tuple(g) for u, g in by_user.items()}
        self._catch_all = any(r.host_tags is None for r in self.rules)
        self._rule_tags = frozenset().union(*(r.host_tags for r in self.rules if r.host_tags is not None))

    @property
    def enforced_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if not r.shadow)

    def groups_of(self, user: str | None, ip: str | None = None) -> tuple[str, ...]:
        """Groups of a person in file order (the first is the primary group)."""
        named = self._user_groups.get(user, ()) if user else ()
        if ip is None or not any(g.subnets for g in self.groups.values()):
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

    def covers(self, host: str, groups: tuple[str, ...] | None = None) -> bool:
        """Whether any rule (shadow rules too) could ever match `host` (normalised); if not, the proxy
        may pass the connection through without decrypting it. With `groups`, only rules that apply
        to a person in those groups count."""
        if self.default != "allow":
            return True
        if groups is None:
            return self._catch_all or bool(self.index.tags(host) & self._rule_tags)
        tags = None
        for rule in self.rules:
            if rule.groups is not None and rule.groups.isdisjoint(groups):
                continue
            if rule.host_tags is None:
                return True
            if tags is None:
                tags = self.index.tags(host)
            if not rule.host_tags.isdisjoint(tags):
                return True
        return False

    def category_of(self, host: str) -> str | None:
        """The most specific category of a (normalised) host, if any."""
        tag = self.index.most_specific(host, (c.tag for c in self.categories.values()))
        return tag[2:] if tag else None

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)
