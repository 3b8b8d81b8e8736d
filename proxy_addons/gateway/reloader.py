"""Watching the policy file (and its domain lists): a valid change is applied in place, without dropping
connections; an invalid, emptied or deleted file is reported and the last good policy stays in force."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path

from ..background import BackgroundTask
from ..policy import Policy, PolicyError, load_policy
from ..policy.lists import cache_name
from ..policy.report import DEFAULT_LIST_CACHE

log = logging.getLogger("gonogo")

Stamp = tuple[tuple[str, int, int, int], ...]


def stamp(policy_path: Path, policy: Policy | None, list_cache: Path | None = None) -> Stamp:
    """(path, mtime, size, inode) of the policy and every list and group file it reads (a remote list's
    cached copy too, so `gonogo lists update` and the background refresh apply at once); missing files
    count too."""
    paths = [policy_path]
    if policy is not None:
        paths.extend(list_files(policy_path, policy, list_cache))
        paths.extend(policy_path.parent / g.file for g in policy.groups.values() if g.file)
    found = []
    for path in paths:
        try:
            st = os.stat(path)
            found.append((str(path), st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            found.append((str(path), -1, -1, -1))
    return tuple(found)


def list_files(policy_path: Path, policy: Policy, list_cache: Path | None) -> list[Path]:
    paths = []
    for category in policy.categories.values():
        for source in category.sources:
            if source.remote:
                paths.append((list_cache or DEFAULT_LIST_CACHE) / cache_name(source.where))
            else:
                path = policy_path.parent / source.where
                paths.append(path / "domains" if source.format == "squidguard" else path)
    return paths


def identity(policy: Policy) -> tuple[str, ...]:
    """What tells two loads of a policy apart: its own sha256, and its lists' (a remote list that changed
    is no policy change, but must still be applied)."""
    return (policy.sha256, *(c.lists_sha256 for c in policy.categories.values()))


class PolicyWatcher:
    def __init__(self, path: Path, known: Policy, interval: float,
                 on_good: Callable[[Policy], None], on_bad: Callable[[PolicyError], None],
                 list_cache: Path | None = None) -> None:
        self.path = path
        self.known = known
        self.interval = interval
        self.on_good = on_good
        self.on_bad = on_bad
        self.list_cache = list_cache
        self._stamp = stamp(path, known, list_cache)
        self._task = BackgroundTask()

    def watch(self, path: Path, known: Policy) -> None:
        """Watch another file from now on (the policy option changed at run time); `known` is its policy."""
        self.path = path
        self.known = known
        self._stamp = stamp(path, known, self.list_cache)

    def start(self) -> None:
        self._task.start(self._run(), "gonogo-policy-watcher")

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # a watcher that dies silently would leave a stale policy in force
                log.exception("gonogo: policy watcher failed; retrying")

    async def check(self) -> None:
        current = stamp(self.path, self.known, self.list_cache)
        if current == self._stamp:
            return
        self._stamp = current
        path = self.path
        try:
            # a million-domain list takes a second or two to compile: keep it off the event loop
            policy = await asyncio.to_thread(load_policy, path, self.list_cache)
        except PolicyError as exc:
            if path == self.path:
                self.on_bad(exc)
            return
        if path != self.path:
            return  # another file was put in force (`watch`) while this one loaded: it no longer counts
        if identity(policy) != identity(self.known):
            self.known = policy
            self.on_good(policy)
        self._stamp = stamp(self.path, policy, self.list_cache)
