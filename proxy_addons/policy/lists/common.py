"""What every list format shares: the counts a parser keeps, the summary of one list source that a
compiled category carries, and the name check that decides whether a token is a domain."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from ..hosts import BadHost, normalize_host

FORMATS = ("plain", "hosts", "adblock", "dnsmasq", "squidguard")
"""Every list format a policy may name in `format:`; `squidguard` is a directory with a `domains` file."""

_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_MAX_SAMPLES = 5  # skipped lines remembered per list, to show the admin what was not understood
_REFRESH = re.compile(r"([1-9][0-9]*)([mhdw])")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(slots=True)
class ListStats:
    """What a parser saw in one list: entries it took, lines it skipped (with a few examples),
    `@@` exceptions and entries of a kind gonogo does not support (squidGuard `urls`)."""

    entries: int = 0
    skipped: int = 0
    exceptions: int = 0
    unsupported: int = 0
    samples: list[tuple[int, str]] = field(default_factory=list)  # (line, text) of skipped lines

    def skip(self, lineno: int, line: str) -> None:
        self.skipped += 1
        if len(self.samples) < _MAX_SAMPLES:
            self.samples.append((lineno, line[:120]))


@dataclass(frozen=True, slots=True)
class ListSource:
    """One list of a category as loaded: where it comes from, how it was read and what it held."""

    where: str  # the file (as written in the policy) or the URL
    format: str
    detected: bool  # format worked out from the content, not named in the policy
    entries: int
    skipped: int = 0
    exceptions: int = 0
    unsupported: int = 0
    license: str | None = None
    sha256: str = ""  # of the list's bytes as read ("" when nothing could be read)
    remote: bool = False
    refresh: int = 0  # seconds between fetches of a remote list
    cached: bool = True  # False: a remote list with no copy on disk yet (the category starts without it)
    samples: tuple[tuple[int, str], ...] = ()  # (line, text) of the first skipped lines


def name(token: str) -> str | None:
    """`token` as a normalised domain name, or None when it is none: an IP address, a URL, junk, or a
    single label (`localhost`, `com`: taking one from a published list would cover a whole TLD)."""
    if not _NAME.fullmatch(token):
        try:
            token = normalize_host(token)
        except BadHost:
            return None
        if not _NAME.fullmatch(token):
            return None
    if "." not in token or token.rpartition(".")[2].isdigit():
        return None
    return token


def cache_name(url: str) -> str:
    """The file name of a remote list's cached copy: the same for the loader, the fetcher and
    `gonogo lists update`, and safe whatever the URL holds."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:24] + ".list"


def parse_refresh(text: str) -> int:
    """'30m', '6h', '1d', '1w' -> seconds; ValueError otherwise."""
    found = _REFRESH.fullmatch(text.strip())
    if not found:
        raise ValueError(f"{text!r} is not an interval like 30m, 6h, 1d or 1w")
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2)]
