"""Reading a whole list file with its format's parser, without a policy: how the fetcher judges a
download (how many entries? is it the format it claims?) before it replaces the last good copy."""

from __future__ import annotations

import codecs
from pathlib import Path

from .common import ListStats
from .detect import detect, parser_for

_CHUNK = 1 << 20


def scan_file(path: Path, fmt: str | None) -> tuple[str, ListStats]:
    """(format, counts) of the list in `path`, read leniently (bad lines are skipped and counted).
    Raises ValueError when it is not UTF-8 text and OSError when it cannot be read."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    parser = None
    tail = ""
    lineno = 1
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            try:
                block = tail + decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise ValueError(f"not UTF-8 text ({exc.reason})") from None
            if chunk:
                cut = block.rfind("\n") + 1
                block, tail = block[:cut], block[cut:]
            if parser is None:
                fmt = fmt or detect(block[:65536])
                parser = parser_for("plain" if fmt == "squidguard" else fmt)
            parser.feed(block, lineno)
            lineno += block.count("\n")
            if not chunk:
                break
    parser.finish()
    assert fmt is not None
    return fmt, parser.stats
