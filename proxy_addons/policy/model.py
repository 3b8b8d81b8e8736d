"""The compiled policy: what the loader builds and the engine reads. Immutable once loaded: what is
worked out from it and remembered lives beside it, in lookups.Lookups."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from zoneinfo import ZoneInfo

from .attention import DEFAULT_BACKGROUND_KB
from .directory import Directory
from .errors import Problem
from .hosts import DomainIndex
from .lists import ListSource
from .lookups import CACHE_SIZE, HostInfo, Lookups
from .schedules import Holidays, Schedule

ACTIONS = ("allow", "timebox", "block", "warn")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Quota:
    minutes: int
    per: str  # day | week
    pool: str  # budget name; the rule's own name unless `pool:` is given
    heads_up: int | None = None  # minutes left at which the first page load shows a one-time heads-up


@dataclass(frozen=True, slots=True)
class ExceptionPolicy:
    """`exceptions:` of a block or timebox rule: people may ask for an exception from its block page."""

    max_minutes: int = 240  # the longest exception a person may ask for


@dataclass(frozen=True, slots=True)
class Notify:
    """`notify:`: where new exception requests and decisions are posted (None: nowhere)."""

    webhook: str | None = None


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
    message: str | None = None  # texts a person reads are wording.Localized: a str with a version per language
    description: str | None = None
    shadow: bool = False
    counting: str | None = None  # attention | requests; None: the policy's
    title: str | None = None  # display name; None: the name
    exceptions: ExceptionPolicy | None = None  # None: no request form on its pages

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
    directory: str | None = None  # distinguished name of a directory group whose members belong
    file: str | None = None  # group file (one user per line), relative to the policy file
    file_users: frozenset[str] = frozenset()  # the names read from `file` (in `users` too)
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    domain_count: int
    files: tuple[str, ...] = ()
    description: str | None = None
    sources: tuple[ListSource, ...] = ()  # every list file, directory and remote list, in policy order
    title: str | None = None

    @property
    def tag(self) -> str:
        return f"c:{self.name}"

    @property
    def lists_sha256(self) -> str:
        """One sha256 for the contents of all the category's lists (local and remote), as
        `gonogo_list_info` reports it: it changes when any of them does; "" without lists."""
        if not self.sources:
            return ""
        return hashlib.sha256("\n".join(f"{s.where} {s.sha256}" for s in self.sources).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Privacy:
    min_group_size: int = 5
    audit_log: str = "pseudonymous"  # off | pseudonymous | named
    retention_days: int = 30


@dataclass(frozen=True, slots=True)
class Counting:
    """What spends a time-box minute (see attention.py): the policy-wide `counting:` and its settings."""

    mode: str = "attention"  # attention | requests
    background_kb: int = DEFAULT_BACKGROUND_KB  # per person, budget and minute
    without_fetch_metadata: str = "requests"  # requests | never

    @property
    def background_bytes(self) -> int:
        return self.background_kb * 1024


@dataclass(frozen=True, slots=True)
class Organisation:
    """Who the policy is of, for the employee notice: the organisation's name and whom to ask."""

    name: str | None = None
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    trusted_header: str | None = None
    trusted_proxies: tuple[IPNetwork, ...] = ()
    directory: Directory | None = None  # LDAP / Active Directory for `directory:` groups


@dataclass(frozen=True, eq=False, slots=True)
class Policy:
    """A loaded policy: an immutable value. The indexes and memo tables derived from it live in
    `lookups` (see lookups.Lookups), built once here and the only mutable part; the methods below ask it."""

    source: str
    sha256: str
    version: int
    timezone: ZoneInfo
    holidays: Holidays
    schedules: Mapping[str, Schedule]
    categories: Mapping[str, Category]
    groups: Mapping[str, Group]
    rules: tuple[Rule, ...]
    default: str
    privacy: Privacy
    identity: Identity
    index: DomainIndex
    budgets: Mapping[str, Quota]
    warnings: tuple[Problem, ...] = ()
    counting: Counting = Counting()
    organisation: Organisation = Organisation()
    notify: Notify = field(default_factory=Notify)
    lookups: Lookups = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # read-only views and tuples: nobody may change a policy that requests are being decided by
        for name in ("schedules", "categories", "groups", "budgets"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "lookups", Lookups(self.groups, self.categories, self.rules, self.index,
                                                    self.timezone))

    def groups_of(self, user: str | None, ip: str | None = None,
                  directory: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Groups of a person in file order (the first is the primary group). `directory`: the groups the
        company directory says the person is in (names of this policy's `directory:` groups)."""
        return self.lookups.groups_of(user, ip, directory)

    def host_info(self, host: str) -> HostInfo:
        """Everything about a (normalised) host that does not depend on who asks or when."""
        return self.lookups.host_info(host)

    def covers(self, host: str, groups: tuple[str, ...] | None = None) -> bool:
        """Whether any rule (shadow rules too) could ever match `host` (normalised); if not, the proxy
        may pass the connection through without decrypting it. With `groups`, only rules that apply
        to a person in those groups count."""
        if self.default != "allow":
            return True
        candidates = self.lookups.host_info(host).candidates
        if groups is None:
            return bool(candidates)
        return any(rule.groups is None or not rule.groups.isdisjoint(groups) for rule in candidates)

    def category_of(self, host: str) -> str | None:
        """The most specific category of a (normalised) host, if any."""
        return self.lookups.host_info(host).category

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)


__all__ = ["ACTIONS", "CACHE_SIZE", "Category", "Counting", "ExceptionPolicy", "Group", "HostInfo", "Identity",
           "Notify", "Organisation", "Policy", "Privacy", "Quota", "Rule"]
