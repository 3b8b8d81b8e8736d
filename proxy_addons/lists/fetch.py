"""Fetching a remote list into the cache the policy loader reads, without ever making things worse.

- Conditional requests (If-None-Match / If-Modified-Since from the last copy's ETag and Last-Modified):
  an unchanged list costs a 304.
- Limits: a download larger than `max_bytes` or slower than `timeout` seconds in total is abandoned.
- Plausibility: a download with no entries, or with fewer than `1 - shrink` of the last copy's entries
  (by default: one that loses more than half of them at once), is rejected and the last copy stays.
  Publishers do shrink lists, so `gonogo lists update --force` accepts such a download once an admin
  has looked at it.
- The copy is replaced atomically (write aside, then rename), so the loader never reads half a list;
  beside it `<name>.json` remembers the URL, validators, sha256, entries and the times of the last
  contact and attempt.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..policy.lists import cache_name
from ..policy.lists.scan import scan_file

RESULTS = ("updated", "unchanged", "failed", "rejected")
_READ = 1 << 16


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 64 << 20  # the largest published lists (1M-line hosts files) are about 30 MB
    timeout: float = 60.0  # seconds for the whole download
    shrink: float = 0.5  # the share of its entries a list may lose in one refresh
    retry: int = 600  # seconds before a failed or rejected fetch is tried again


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one fetch did: `result` is one of RESULTS, `detail` says why in words for the log."""

    url: str
    result: str
    detail: str
    entries: int = 0
    sha256: str = ""


def cache_path(cache_dir: Path, url: str) -> Path:
    return cache_dir / cache_name(url)


def read_meta(cache_dir: Path, url: str) -> dict[str, Any]:
    """What the last fetches of `url` left (empty when none or unreadable)."""
    try:
        meta = json.loads(cache_path(cache_dir, url).with_suffix(".json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) and meta.get("url") == url else {}


def due(cache_dir: Path, url: str, refresh: int, now: float, limits: Limits = DEFAULT_LIMITS) -> bool:
    """Whether `url` should be fetched now: never fetched, or `refresh` seconds since the last contact;
    after a failed attempt not before `limits.retry` seconds (nor `refresh`, if that is shorter)."""
    meta = read_meta(cache_dir, url)
    if "attempted" in meta and now < float(meta["attempted"]) + min(refresh, limits.retry):
        return False
    return not cache_path(cache_dir, url).is_file() or now >= float(meta.get("checked", 0)) + refresh


def fetch_list(url: str, fmt: str | None, cache_dir: Path, limits: Limits = DEFAULT_LIMITS, *, force: bool = False,
               clock: Callable[[], float] = time.time) -> Outcome:
    """Fetch `url` into `cache_dir` now (blocking: the gateway calls it in a thread). `force` skips the
    conditional request and the shrink check (not the empty check)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_path(cache_dir, url)
    meta = read_meta(cache_dir, url) or {"url": url}
    meta["attempted"] = clock()
    try:
        outcome = _fetch(url, fmt, target, meta, limits, force)
    finally:
        target.with_name(target.name + ".part").unlink(missing_ok=True)
    if outcome.result in ("updated", "unchanged"):
        meta["checked"] = meta["attempted"]
    meta["result"] = outcome.result
    _write_atomically(target.with_suffix(".json"), json.dumps(meta, indent=1).encode("utf-8"))
    return outcome


def _fetch(url: str, fmt: str | None, target: Path, meta: dict[str, Any], limits: Limits, force: bool) -> Outcome:
    headers = {"User-Agent": "gonogo-lists/1", "Accept-Encoding": "identity"}
    if target.is_file() and not force:
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
    deadline = time.monotonic() + limits.timeout
    part = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=limits.timeout) as resp:
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limits.max_bytes:
                return Outcome(url, "rejected", f"{int(length):,} bytes announced, over the limit of "
                                                f"{limits.max_bytes:,}")
            validators = {"etag": resp.headers.get("ETag"), "last_modified": resp.headers.get("Last-Modified")}
            problem = _download(resp, part, limits, deadline)
    except urllib.error.HTTPError as exc:
        if exc.code == 304 and target.is_file():
            return Outcome(url, "unchanged", "not modified (304)", int(meta.get("entries", 0)), meta.get("sha256", ""))
        return Outcome(url, "failed", f"HTTP {exc.code} {exc.reason}")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        return Outcome(url, "failed", _why(exc))
    if problem is not None:
        return Outcome(url, *problem)
    return _judge(url, fmt, target, part, meta, validators, limits, force)


def _download(resp: Any, part: Path, limits: Limits, deadline: float) -> tuple[str, str] | None:
    """Copy the body to `part` within the limits; (result, why) when it broke one."""
    size = 0
    with part.open("wb") as out:
        while True:
            if time.monotonic() > deadline:
                return "failed", f"download took longer than {limits.timeout:g} s"
            chunk = resp.read1(_READ)  # what has arrived: a trickling server cannot hold read() forever
            if not chunk:
                return None
            size += len(chunk)
            if size > limits.max_bytes:
                return "rejected", f"larger than the limit of {limits.max_bytes:,} bytes"
            out.write(chunk)


def _judge(url: str, fmt: str | None, target: Path, part: Path, meta: dict[str, Any],
           validators: dict[str, str | None], limits: Limits, force: bool) -> Outcome:
    """Take the downloaded copy, or keep the last one when the download is implausible."""
    try:
        found, stats = scan_file(part, fmt)
    except (OSError, ValueError) as exc:
        return Outcome(url, "rejected", f"unreadable: {_why(exc)}")
    sha256 = _sha256(part)
    before = int(meta.get("entries", 0)) if target.is_file() else 0
    if stats.entries == 0:
        return Outcome(url, "rejected", f"no entries in the download (format {found}); the last copy stays")
    if before and not force and stats.entries < before * (1 - limits.shrink):
        return Outcome(url, "rejected", f"shrank from {before:,} to {stats.entries:,} entries (more than "
                                        f"{limits.shrink:.0%}); the last copy stays (--force takes it)")
    meta.update(validators)
    unchanged = target.is_file() and meta.get("sha256") == sha256
    meta.update({"sha256": sha256, "entries": stats.entries, "format": found})
    if unchanged:
        return Outcome(url, "unchanged", "same content", stats.entries, sha256)
    os.replace(part, target)
    return Outcome(url, "updated", f"{_entries(stats.entries)} ({found}, {stats.skipped:,} lines skipped)",
                   stats.entries, sha256)


def _entries(n: int) -> str:
    return f"{n:,} entry" if n == 1 else f"{n:,} entries"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    part = path.with_name(path.name + ".part")
    part.write_bytes(data)
    os.replace(part, path)


def _why(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)
