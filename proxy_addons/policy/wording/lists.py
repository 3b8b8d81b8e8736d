"""Category lists in words: where a list comes from, its format, what it held and under which license,
for `gonogo check` and the notice's appendix. Words from the table, like every other phrase."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .table import text

if TYPE_CHECKING:
    from ..lists import ListSource

_UNITS = (("weeks", 7 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60))


def interval(seconds: int, lang: str = "en") -> str:
    """'1 day', '6 hours', '90 minutes': the largest unit that divides `seconds`."""
    for unit, size in _UNITS:
        if seconds % size == 0:
            n = seconds // size
            return text(lang, f"count.{unit}", count=n, n=f"{n:,}")
    return text(lang, "count.minutes", count=seconds // 60, n=f"{seconds // 60:,}")


def source(src: ListSource, lang: str = "en") -> str:
    """'hosts (detected), 1,234 entries, 3 lines skipped, license CC-BY-SA-4.0, fetched every 1 day'."""
    fmt = text(lang, "lists.detected", format=src.format) if src.detected else src.format
    parts = [fmt]
    if src.remote and not src.cached:
        if src.detected:
            parts = []  # nothing to detect the format from yet
        parts.append(text(lang, "lists.not_cached"))
    else:
        parts.append(_count("entries", src.entries, lang))
        for unit, n in (("skipped", src.skipped), ("exceptions", src.exceptions),
                        ("unsupported", src.unsupported)):
            if n:
                parts.append(_count(unit, n, lang))
    if src.license:
        parts.append(text(lang, "lists.license", license=src.license))
    elif src.remote:  # a published list: its license says whether (and how) it may be used
        parts.append(text(lang, "lists.no_license"))
    if src.remote:
        parts.append(text(lang, "lists.refresh", interval=interval(src.refresh, lang)))
    return ", ".join(parts)


def skipped(line: int, content: str, lang: str = "en") -> str:
    """'skipped line 12: ||ads.example^$third-party' (what a list held that gonogo did not take)."""
    return text(lang, "lists.skipped_line", line=line, text=content)


def _count(unit: str, n: int, lang: str) -> str:
    return text(lang, f"count.{unit}", count=n, n=f"{n:,}")
