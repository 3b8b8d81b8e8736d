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


class DomainIndex:
    """Maps domains to tags (category and rule ids); a domain covers its subdomains.

    Each distinct set of tags is stored once and entries point at it by number, so a million
    domains of one category cost a dict of small ints rather than a million sets.
    """

    __slots__ = ("_entries", "_tagset_ids", "_tagsets")

    def __init__(self) -> None:
        self._entries: dict[str, int] = {}
        self._tagsets: list[frozenset[str]] = [frozenset()]
        self._tagset_ids: dict[frozenset[str], int] = {frozenset(): 0}

    def __len__(self) -> int:
        return len(self._entries)

    def _tagset_id(self, tags: frozenset[str]) -> int:
        found = self._tagset_ids.get(tags)
        if found is None:
            found = self._tagset_ids[tags] = len(self._tagsets)
            self._tagsets.append(tags)
        return found

    def add_many(self, domains: Iterable[str], tag: str) -> None:
        """Add already-normalised domains under one tag."""
        entries = self._entries
        tagsets = self._tagsets
        only = self._tagset_id(frozenset((tag,)))
        for domain in domains:
            current = entries.get(domain)
            if current is None:
                entries[domain] = only
            elif tag not in tagsets[current]:
                entries[domain] = self._tagset_id(tagsets[current] | {tag})

    def tags(self, host: str) -> frozenset[str]:
        """All tags of `host` and of every parent domain; `host` must be normalised."""
        entries = self._entries
        found: frozenset[str] | None = None
        for name in suffixes(host):
            tagset_id = entries.get(name)
            if tagset_id is not None:
                tags = self._tagsets[tagset_id]
                found = tags if found is None else found | tags
        return found or frozenset()

    def most_specific(self, host: str, wanted: Iterable[str]) -> str | None:
        """The first of `wanted` tags held by the longest matching suffix of `host`."""
        wanted = tuple(wanted)
        for name in suffixes(host):
            tagset_id = self._entries.get(name)
            if tagset_id is not None:
                tags = self._tagsets[tagset_id]
                for tag in wanted:
                    if tag in tags:
                        return tag
        return None

    def domains(self) -> Iterable[str]:
        return self._entries.keys()
