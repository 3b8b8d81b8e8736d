"""The squidGuard / UT1 layout: a category is a directory holding `domains` (one name per line) and
perhaps `urls` and `expressions`. gonogo decides per host, so `urls` and `expressions` entries cannot
be enforced as written: they are counted and reported as not supported, never widened to a domain."""

from __future__ import annotations

from pathlib import Path

from ..filelimits import open_regular

UNSUPPORTED = ("urls", "expressions")


def domains_file(directory: Path) -> Path:
    return directory / "domains"


def unsupported_entries(directory: Path) -> int:
    """Entries of `urls` and `expressions` (non-blank, non-comment lines); unreadable files count 0."""
    count = 0
    for part in UNSUPPORTED:
        try:
            with open_regular(directory / part) as handle:  # a FIFO named `urls` must not stall a load
                for line in handle:
                    stripped = line.strip()
                    if stripped and not stripped.startswith(b"#"):
                        count += 1
        except OSError:
            continue
    return count
