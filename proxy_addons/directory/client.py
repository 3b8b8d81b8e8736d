"""Asking the directory: who is in the groups a policy names, and which of them one person is in.

Blocking (ldap3's synchronous strategy) and meant for a worker thread (`asyncio.to_thread`): every call is
bounded by the policy's `timeout` (connecting and each answer), one call runs at a time per client, and a
connection that broke (the server restarted) is replaced once within the same call, so recovery needs no
restart. Every failure is a `DirectoryError` with a readable reason; nothing here knows about requests.

Membership strategies (`identity.directory.membership`):
- `member`: read each group's `member`/`uniqueMember` values (OpenLDAP `groupOfNames`, also AD); member
  entries that are groups are followed here, up to MAX_DEPTH levels, cycles ignored.
- `memberOf`: the people whose `memberOf` holds the group (direct membership only).
- `ad-chain`: Active Directory's in-chain matching rule (LDAP_MATCHING_RULE_IN_CHAIN,
  1.2.840.113556.1.4.1941) on `memberOf`: nested groups resolved by the server.
- `auto`: `ad-chain` when the server says it is Active Directory, else `member`.
People are those the policy's `user_filter` finds (with `*` for the name), so an account the filter leaves out
(a disabled one, with a filter such as AD's `(!(userAccountControl:1.2.840.113556.1.4.803:=2))`) is in no
group even when a group lists it.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ldap3
from ldap3.core.exceptions import LDAPException

from ..policy.directory import Directory
from .names import all_users_filter, dn_key, escape, normalize_user, user_filter

MAX_DEPTH = 8  # nesting levels of groups followed with the `member` strategy
PAGE_SIZE = 500  # entries per page of a search (OpenLDAP's default size limit is 500)
IN_CHAIN = "1.2.840.113556.1.4.1941"
AD_CAPABILITY = "1.2.840.113556.1.4.800"
_NO_SUCH_OBJECT = 32
_MEMBER_ATTRIBUTES = ("member", "uniqueMember")
T = TypeVar("T")


class DirectoryError(Exception):
    """The directory could not be asked (unreachable, too slow, refused the bind or the search)."""


@dataclass(frozen=True, slots=True)
class GroupReport:
    """One named group as the directory has it: its members' normalised user names, or None when no such
    group exists."""

    dn: str
    members: frozenset[str] | None


class DirectoryClient:
    def __init__(self, settings: Directory) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._conn: ldap3.Connection | None = None
        self._strategy: str | None = None

    # ---- the questions ----
    def groups(self, group_dns: Iterable[str]) -> list[GroupReport]:
        """The members of each group (see the module's strategies)."""
        dns = list(dict.fromkeys(group_dns))
        return self._call(lambda conn: self._groups(conn, dns))

    def user_groups(self, user: str, group_dns: Iterable[str]) -> frozenset[str]:
        """The `dn_key`s of the named groups `user` is in (nested included where the strategy allows);
        empty when the directory does not know the person."""
        wanted = {dn_key(dn) for dn in group_dns}
        return self._call(lambda conn: self._user_groups(conn, user, wanted))

    def strategy(self) -> str:
        """The membership strategy in use (`auto` resolved by asking the server)."""
        return self._call(self._resolved_strategy)

    def close(self) -> None:
        with self._lock:
            self._drop()

    # ---- connection ----
    def _call(self, question: Callable[[ldap3.Connection], T]) -> T:
        with self._lock:
            for attempt in (1, 2):
                fresh = self._conn is None
                try:
                    return question(self._connection())
                except (LDAPException, OSError) as exc:
                    self._drop()
                    if fresh or attempt == 2:  # a new connection failed too: the directory is down
                        raise DirectoryError(f"{self.settings.url}: {type(exc).__name__}: {exc}") from None
                except DirectoryError:
                    self._drop()
                    raise
            raise AssertionError("unreachable")

    def _connection(self) -> ldap3.Connection:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        s = self.settings
        parts = urlsplit(s.url)
        secure = parts.scheme == "ldaps"
        server = ldap3.Server(parts.hostname or "", port=parts.port or (636 if secure else 389), use_ssl=secure,
                              connect_timeout=s.timeout, get_info=ldap3.NONE)
        password = _read_password(s.password_file) if s.password_file else None
        # ldap3 packs receive_timeout into a socket option as whole seconds
        conn = ldap3.Connection(server, user=s.bind_dn, password=password,
                                receive_timeout=max(1, math.ceil(s.timeout)), read_only=True,
                                raise_exceptions=False, auto_referrals=False)
        conn.open()
        if s.starttls and not conn.start_tls():
            conn.unbind()
            raise DirectoryError(f"{s.url}: StartTLS refused: {conn.result.get('description')}")
        if not conn.bind():
            conn.unbind()
            raise DirectoryError(f"{s.url}: bind as {s.bind_dn or 'anonymous'} refused: "
                                 f"{conn.result.get('description')} {conn.result.get('message') or ''}".strip())
        self._conn = conn
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            # closing a broken connection may fail in many ways; it is gone either way
            with contextlib.suppress(Exception):
                self._conn.unbind()
        self._conn = None

    def _resolved_strategy(self, conn: ldap3.Connection) -> str:
        if self.settings.membership != "auto":
            return self.settings.membership
        if self._strategy is None:
            entries = self._search(conn, "", "(objectClass=*)", ["supportedCapabilities"], ldap3.BASE)
            capabilities = _values(entries[0], "supportedCapabilities") if entries else []
            self._strategy = "ad-chain" if AD_CAPABILITY in capabilities else "member"
        return self._strategy

    # ---- searching ----
    def _search(self, conn: ldap3.Connection, base: str, search_filter: str, attributes: list[str],
                scope: str = ldap3.SUBTREE) -> list[dict[str, Any]] | None:
        """Entries found; None when `base` does not exist. Other refusals are DirectoryErrors."""
        if scope == ldap3.SUBTREE:
            found = conn.extend.standard.paged_search(base, search_filter, scope, attributes=attributes,
                                                      paged_size=PAGE_SIZE, generator=False)
        else:
            conn.search(base, search_filter, scope, attributes=attributes)
            found = conn.response
        code = conn.result.get("result", 0) if conn.result else 0
        if code == _NO_SUCH_OBJECT:
            return None
        if code != 0:
            raise DirectoryError(f"{self.settings.url}: search of {base or 'the root'} refused: "
                                 f"{conn.result.get('description')} {conn.result.get('message') or ''}".strip())
        return [e for e in found or () if e.get("type") == "searchResEntry"]

    def _people(self, conn: ldap3.Connection) -> dict[str, str]:
        """dn_key -> normalised user name of every person the user_filter finds."""
        s = self.settings
        entries = self._search(conn, s.base_dn, all_users_filter(s.user_filter), [s.user_attribute]) or []
        people = {}
        for entry in entries:
            names = _values(entry, s.user_attribute)
            if names:
                people[dn_key(entry["dn"])] = normalize_user(names[0])
        return people

    def _groups(self, conn: ldap3.Connection, dns: list[str]) -> list[GroupReport]:
        strategy = self._resolved_strategy(conn)
        if strategy == "member":
            people = self._people(conn)
            return [GroupReport(dn, self._expand(conn, dn, people)) for dn in dns]
        rule = f":{IN_CHAIN}:" if strategy == "ad-chain" else ""
        s = self.settings
        reports = []
        for dn in dns:
            if self._search(conn, dn, "(objectClass=*)", [], ldap3.BASE) is None:
                reports.append(GroupReport(dn, None))
                continue
            query = f"(&{all_users_filter(s.user_filter)}(memberOf{rule}={escape(dn)}))"
            entries = self._search(conn, s.base_dn, query, [s.user_attribute]) or []
            names = frozenset(normalize_user(v[0]) for e in entries if (v := _values(e, s.user_attribute)))
            reports.append(GroupReport(dn, names))
        return reports

    def _expand(self, conn: ldap3.Connection, dn: str, people: dict[str, str]) -> frozenset[str] | None:
        """Members of a group and of the groups in it (breadth first, MAX_DEPTH levels, each group once)."""
        members: set[str] = set()
        seen = {dn_key(dn)}
        level = [dn]
        for depth in range(MAX_DEPTH + 1):
            following: list[str] = []
            for group in level:
                entries = self._search(conn, group, "(objectClass=*)", list(_MEMBER_ATTRIBUTES), ldap3.BASE)
                if entries is None:
                    if depth == 0:
                        return None  # the named group does not exist
                    continue
                for entry in entries:
                    for member in (*_values(entry, "member"), *_values(entry, "uniqueMember")):
                        key = dn_key(member)
                        if key in people:
                            members.add(people[key])
                        elif key not in seen:  # perhaps a group; a person the filter leaves out reads empty
                            seen.add(key)
                            following.append(member)
            level = following
            if not level:
                break
        return frozenset(members)

    def _user_groups(self, conn: ldap3.Connection, user: str, wanted: set[str]) -> frozenset[str]:
        s = self.settings
        entries = self._search(conn, s.base_dn, user_filter(s.user_filter, user), ["memberOf"]) or []
        if not entries:
            return frozenset()
        person = entries[0]["dn"]
        strategy = self._resolved_strategy(conn)
        if strategy == "memberOf":
            return frozenset(dn_key(g) for g in _values(entries[0], "memberOf")) & wanted
        if strategy == "ad-chain":
            found = self._search(conn, s.base_dn, f"(member:{IN_CHAIN}:={escape(person)})", []) or []
            return frozenset(dn_key(e["dn"]) for e in found) & wanted
        # member: walk up from the person, one level per search
        groups: set[str] = set()
        level = [person]
        for _ in range(MAX_DEPTH + 1):
            query = "(|" + "".join(f"({a}={escape(m)})" for m in level for a in _MEMBER_ATTRIBUTES) + ")"
            found = self._search(conn, s.base_dn, query, []) or []
            level = [e["dn"] for e in found if dn_key(e["dn"]) not in groups]
            groups.update(dn_key(dn) for dn in level)
            if not level:
                break
        return frozenset(groups) & wanted


def _values(entry: dict[str, Any], attribute: str) -> list[str]:
    """An attribute's values as a list of strings (ldap3 gives a list, a single value or nothing)."""
    attributes = entry.get("attributes") or {}
    value = next((v for k, v in attributes.items() if k.lower() == attribute.lower()), None)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def _read_password(path: str) -> str:
    """The bind password: the file's first line (a trailing newline is not part of it)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError(f"cannot read password_file {path}: {exc}") from None
    return text.splitlines()[0] if text else ""
