"""Published domain lists in the formats admins already take them in: plain names, hosts files,
adblock/AdGuard domain rules, dnsmasq `address=` lines and the squidGuard / UT1 category layout.

Pure: a parser turns a block of text (whole lines) into normalised domain names and counts what it
skipped; it never guesses. Reading files in chunks and hashing them is the loader's (domainlists.py);
fetching remote lists is `proxy_addons.lists` (outside the pure core).
"""

from __future__ import annotations

from .common import FORMATS, ListSource, ListStats, cache_name, parse_refresh
from .detect import detect, parser_for

__all__ = ["FORMATS", "ListSource", "ListStats", "cache_name", "detect", "parse_refresh",
           "parser_for"]
