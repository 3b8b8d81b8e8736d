"""Host names as the policy sees them, and a domain index whose lookup cost does not grow with its size.

A client must not slip past a rule by writing `FaceBook.com.`, `facebook.com:443`, an IDN in Unicode or
a bracketed IPv6 literal, so every host goes through `normalize_host` before it meets the index, and
the index holds only normalised names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


class BadHost(ValueError):
    """A name that cannot be a host (empty label, bad IDN, ...)."""


def normalize_host(raw: str) -> str:
    """Lower-case, no port, no trailing dot, IDN as punycode, IPv6 without brackets in compressed form."""
    host = raw.strip()
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise BadHost(f"unclosed '[' in {raw!r}")
        return _ipv6(host[1:end], raw)
    if host.count(":") == 1:
        host, _, port = host.partition(":")
        if port and not port.isdigit():
            raise BadHost(f"bad port in {raw!r}")
    elif host.count(":") > 1:
        return _ipv6(host, raw)
    host = host.rstrip(".").lower()
    if not host:
        raise BadHost(f"empty host {raw!r}")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise BadHost(f"not a valid international domain name: {raw!r}") from exc
    if ".." in host or host.startswith("."):
        raise BadHost(f"empty label in {raw!r}")
    return host


def _ipv6(text: str, raw: str) -> str:
    try:
        return ipaddress.IPv6Address(text.split("%")[0]).compressed
    except ValueError as exc:
        raise BadHost(f"not an IPv6 address: {raw!r}") from exc


def suffixes(host: str) -> Iterable[str]:
    """`a.b.c` -> `a.b.c`, `b.c`, `c`: the names whose entries cover `host`."""
    yield host
    start = host.find(".")
    while start >= 0:
        yield host[start + 1 :]
        start = host.find(".", start + 1)


def first_tag(chain: tuple[frozenset[str], ...], wanted: tuple[str, ...]) -> str | None:
    """The first of `wanted` in the most specific tag set of `chain` that holds any of them."""
    for tags in chain:
        for tag in wanted:
            if tag in tags:
                return tag
    return None


class DomainIndex:
    """Maps domains to tags (category and rule ids); a domain covers its subdomains.

    Each distinct set of tags is stored once and entries point at it by number, so a million
    domains of one category cost a dict of small ints rather than a million sets.
    """

    __slots__ = ("_carved", "_entries", "_tagset_ids", "_tagsets")

    def __init__(self) -> None:
        self._entries: dict[str, int] = {}
        self._tagsets: list[frozenset[str]] = [frozenset()]
        self._tagset_ids: dict[frozenset[str], int] = {frozenset(): 0}
        self._carved = False  # whether any entry carries an exception tag (see `carve_out`)

    def __len__(self) -> int:
        return len(self._entries)

    def _tagset_id(self, tags: frozenset[str]) -> int:
        found = self._tagset_ids.get(tags)
        if found is None:
            found = self._tagset_ids[tags] = len(self._tagsets)
            self._tagsets.append(tags)
        return found

    def add_many(self, domains: Iterable[str], tag: str) -> int:
        """Add already-normalised domains under one tag; returns how many did not have the tag yet
        (so a category can count its distinct domains without building a set of a million names)."""
        entries = self._entries
        tagsets = self._tagsets
        only = self._tagset_id(frozenset((tag,)))
        setdefault = entries.setdefault
        before = len(entries)
        retagged = 0
        for domain in domains:
            current = setdefault(domain, only)
            if current != only and tag not in tagsets[current]:
                entries[domain] = self._tagset_id(tagsets[current] | {tag})
                retagged += 1
        return len(entries) - before + retagged

    def carve_out(self, domains: Iterable[str], tag: str) -> None:
        """Except already-normalised domains (and their subdomains) from `tag` again, as an adblock
        `@@||domain^` rule does: a broader entry with `tag` no longer covers them, and on the same
        name the exception wins. Stored as the tag `~tag`, which `chain` resolves and never returns."""
        domains = list(domains)
        if domains:
            self._carved = True
            self.add_many(domains, CARVED + tag)

    def tags(self, host: str) -> frozenset[str]:
        """All tags of `host` and of every parent domain; `host` must be normalised."""
        found: frozenset[str] = frozenset()
        for tags in self.chain(host):
            found = found | tags if found else tags
        return found

    def chain(self, host: str) -> tuple[frozenset[str], ...]:
        """The tag sets of every listed suffix of `host`, most specific (longest) first: one pass of
        dictionary lookups, as many as `host` has labels, whatever the size of the index."""
        entries = self._entries
        tagsets = self._tagsets
        found = []
        tagset_id = entries.get(host)
        if tagset_id is not None:
            found.append(tagsets[tagset_id])
        start = host.find(".")
        while start >= 0:
            tagset_id = entries.get(host[start + 1 :])
            if tagset_id is not None:
                found.append(tagsets[tagset_id])
            start = host.find(".", start + 1)
        return _resolve_carve_outs(found) if self._carved else tuple(found)

    def most_specific(self, host: str, wanted: Iterable[str]) -> str | None:
        """The first of `wanted` tags held by the longest matching suffix of `host`."""
        return first_tag(self.chain(host), tuple(wanted))

    def examples(self, tag: str, limit: int) -> list[str]:
        """Up to `limit` domains listed under `tag` itself, in the order they were added (a category's
        own `domains:` first, then its files); stops as soon as it has them."""
        holding = {i for i, tags in enumerate(self._tagsets) if tag in tags}
        found: list[str] = []
        if not holding or limit <= 0:
            return found
        for domain, tagset_id in self._entries.items():
            if tagset_id in holding:
                found.append(domain)
                if len(found) >= limit:
                    break
        return found

    def domains(self) -> Iterable[str]:
        return self._entries.keys()


CARVED = "~"  # prefix of an exception tag (DomainIndex.carve_out)


def _resolve_carve_outs(chain: list[frozenset[str]]) -> tuple[frozenset[str], ...]:
    """A chain (most specific first) with exception tags applied: `~t` removes `t` from its own tag set
    and from every less specific one; the `~` tags themselves are dropped."""
    cut: set[str] = set()
    resolved = []
    for tags in chain:
        excepted = {t[1:] for t in tags if t.startswith(CARVED)}
        if excepted or cut:
            cut |= excepted
            tags = frozenset(t for t in tags if not t.startswith(CARVED) and t not in cut)
        if tags:
            resolved.append(tags)
    return tuple(resolved)
