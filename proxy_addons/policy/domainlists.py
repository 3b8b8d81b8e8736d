"""Domain names as a policy gives them: inline (`domains:`) and in list files (`files:`), which may hold
a million lines. Each name is normalised, or reported with `file:line` when it is no domain name."""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .filelimits import open_regular
from .hosts import BadHost, normalize_host
from .lists import ListStats, detect, parser_for
from .lists.base import BlockParser
from .report import Report, oserror
from .yamlsource import LocList, Pos

_MAX_FILE_ERRORS = 20
_CHUNK = 1 << 20  # domain lists are read a megabyte at a time
_SAMPLE = 1 << 16  # bytes a list's format is detected from
_FAST_DOMAIN = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_PLAIN = b"abcdefghijklmnopqrstuvwxyz0123456789_-.\n"


def domains(report: Report, items: LocList, owner: str) -> Iterator[str]:
    """The normalised names of an inline `domains:` list; a bad one is reported as `owner: why`."""
    for i, raw in enumerate(items):
        try:
            yield domain(raw)
        except BadHost as exc:
            report.error(items.item_pos[i], f"{owner}: {exc}")


def domain_file(report: Report, name: str, pos: Pos, reading: Reading | None = None,
                path: Path | None = None) -> Iterator[list[str]]:
    """The domains of a list file in batches, read a megabyte at a time: a million-line list never
    exists in memory as bytes, text and a list of lines at once, only as the index's own keys.
    A chunk of plain lower-case names (the usual case) is checked at once by C string operations.
    With `reading`, the list may be in any format of lists.FORMATS (named or detected from its first
    chunk) and what was read is counted there; a remote list's bytes stay out of the policy's sha256."""
    if path is None:
        path = (report.base_dir / name) if not Path(name).is_absolute() else Path(name)
    handle = _open(report, name, pos, path, reading)
    if handle is None:
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    state = _ListState(path)
    offset = 0  # bytes before the current chunk, for the position of a decoding error
    tail = ""
    with handle:
        while True:
            try:
                chunk = handle.read(_CHUNK)
            except OSError as exc:
                report.error(pos, f"cannot read domain list {name!r}: {oserror(exc)}")
                return
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                report.error(pos, f"domain list {name!r} is not UTF-8 text: {exc.reason} at byte "
                                  f"{offset + exc.start - len(decoder.getstate()[0])}")
                return
            offset += len(chunk)
            if reading is None or not reading.remote:
                report.digest.update(chunk)
            block = tail + text
            if chunk:
                cut = block.rfind("\n") + 1
                block, tail = block[:cut], block[cut:]
            parser = reading.parser_for(block, chunk) if reading is not None else None
            if parser is not None:
                batch = parser.feed(block, state.lineno + 1)
                state.lineno += block.count("\n")
                yield batch
            elif _plain_names(block):
                lines = block.split("\n")
                state.lineno += len(lines) - 1
                yield [line for line in lines if line]
            else:
                yield _domain_lines(report, block.split("\n"), state)
            if not chunk:
                break
    if reading is not None:
        yield reading.finish()
    if state.failed > _MAX_FILE_ERRORS:
        report.error(pos, f"domain list {name!r}: {state.failed - _MAX_FILE_ERRORS} more bad lines not shown")


def _open(report: Report, name: str, pos: Pos, path: Path, reading: Reading | None) -> BinaryIO | None:
    """The list file, open at its start, with its format detected if it is to be; None when unreadable."""
    try:
        handle = open_regular(path)  # a device or pipe (/dev/zero, a FIFO) might never end
        if reading is not None and reading.format is None:
            try:
                reading.detect(handle.read(_SAMPLE))  # a regular file: it can be read again from the start
                handle.seek(0)
            except OSError:
                handle.close()
                raise
    except OSError as exc:
        report.error(pos, f"cannot read domain list {name!r}: {oserror(exc)}")
        return None
    return handle


class Reading:
    """How one list is being read (format named, or detected from its first chunk) and what was found:
    the lists.ListStats of its parser and the sha256 of its bytes."""

    def __init__(self, fmt: str | None, remote: bool) -> None:
        self.format = fmt
        self.detected = fmt is None
        self.remote = remote
        self.digest = hashlib.sha256()
        self.stats = ListStats()
        self.carve_outs: list[str] = []
        self._parser: BlockParser | None = None
        self._chosen = False

    def parser_for(self, block: str, chunk: bytes) -> BlockParser | None:
        """The parser of this list (None: the strict plain reader, for a local list an admin wrote)."""
        self.digest.update(chunk)
        if not self._chosen:
            self._chosen = True
            if self.format is None:
                self.format = detect(block[:_SAMPLE])
            if self.format != "plain" or self.remote:
                self._parser = parser_for(self.format)
        return self._parser

    def detect(self, sample: bytes) -> None:
        """Work out the format from the list's first bytes (before any is parsed)."""
        self.format = detect(sample.decode("utf-8", "ignore"))

    def finish(self) -> list[str]:
        """The names a parser held back to the end (adblock exceptions come last); counts are final."""
        if self._parser is None:
            return []
        rest = self._parser.finish()
        self.carve_outs = self._parser.carve_outs()
        self.stats = self._parser.stats
        return rest


class _ListState:
    """Where reading a domain list file stands: line number and bad lines so far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lineno = 0
        self.failed = 0


def _domain_lines(report: Report, lines: list[str], state: _ListState) -> list[str]:
    found = []
    fast = _FAST_DOMAIN.fullmatch
    for line in lines:
        state.lineno += 1
        if "#" in line:
            line = line.split("#", 1)[0]
        line = line.strip()
        if not line:
            continue
        if fast(line):
            found.append(line)
            continue
        try:
            found.append(domain(line))
        except BadHost as exc:
            state.failed += 1
            if state.failed <= _MAX_FILE_ERRORS:
                report.error((state.lineno, 1), str(exc), file=str(state.path))
    if lines and lines[-1] == "":
        state.lineno -= 1  # the empty string after the chunk's last newline is no line
    return found


def _plain_names(block: str) -> bool:
    """Whether every line of `block` is empty or already a normalised name (what `_FAST_DOMAIN` accepts),
    checked for the whole block at once by C string operations."""
    return (block.isascii() and not block.encode("ascii").translate(None, _PLAIN)
            and ".." not in block and "\n." not in block and ".\n" not in block
            and not block.startswith(".") and not block.endswith("."))


def domain(raw: object) -> str:
    """One domain name as an admin may write it (`*.x.com`, a hosts-file line), normalised."""
    if not isinstance(raw, str):
        raise BadHost(f"{raw!r} is not a domain name")
    text = raw.strip()
    if text.startswith("*."):
        text = text[2:]
    parts = text.split()
    if len(parts) == 2 and parts[0] in ("0.0.0.0", "127.0.0.1", "::", "::1"):
        text = parts[1]  # hosts-file format, as many published lists use
    elif len(parts) != 1:
        raise BadHost(f"{raw!r} is not one domain name")
    if "/" in text:
        raise BadHost(f"{raw!r} is a URL or path; write just the domain, e.g. facebook.com")
    host = normalize_host(text)
    if not _FAST_DOMAIN.fullmatch(host) and ":" not in host:
        raise BadHost(f"{raw!r} is not a valid domain name")
    return host
