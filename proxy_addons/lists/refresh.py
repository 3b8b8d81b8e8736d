"""The gateway's background refresh of remote category lists.

Every `interval` seconds it looks at the remote lists of the policy in force and fetches those that are
due (`refresh:` elapsed since the last contact; sooner after a failure, see fetch.Limits.retry), one at a
time in a worker thread, so requests never wait for a download. Each result is counted in
`gonogo_list_refresh_total{category,result}` and logged. When a list changed, `on_change` is called: the
gateway then reloads the policy from the cache like any policy change, and a policy that fails to load
leaves the last good one in force.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..background import BackgroundTask
from ..policy import Policy
from .fetch import DEFAULT_LIMITS, Limits, Outcome, due, fetch_list

log = logging.getLogger("gonogo")


@dataclass(frozen=True, slots=True)
class RemoteList:
    url: str
    format: str | None  # None: detected from the content
    refresh: int
    categories: tuple[str, ...]


def remote_lists(policy: Policy) -> list[RemoteList]:
    """The policy's remote lists, each once (a URL may serve several categories)."""
    found: dict[str, RemoteList] = {}
    for category in policy.categories.values():
        for source in category.sources:
            if not source.remote:
                continue
            known = found.get(source.where)
            fmt = None if source.detected else source.format
            if known is None:
                found[source.where] = RemoteList(source.where, fmt, source.refresh, (category.name,))
            else:
                found[source.where] = RemoteList(source.where, known.format, min(known.refresh, source.refresh),
                                                 (*known.categories, category.name))
    return list(found.values())


class ListRefresher:
    def __init__(self, cache_dir: Path, policy: Callable[[], Policy | None], on_change: Callable[[], object],
                 on_result: Callable[[str, str], None], interval: float = 60.0,
                 limits: Limits = DEFAULT_LIMITS) -> None:
        self.cache_dir = cache_dir
        self.policy = policy  # the policy in force now: its lists are the ones refreshed
        self.on_change = on_change
        self.on_result = on_result  # (category, result), for the metric
        self.interval = interval
        self.limits = limits
        self._task = BackgroundTask()

    def start(self) -> None:
        self._task.start(self._run(), "gonogo-list-refresh")

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh_due()
            except Exception:  # a refresher that dies silently would leave the lists to age unnoticed
                log.exception("gonogo: list refresh failed; retrying")
            await asyncio.sleep(self.interval)

    async def refresh_due(self) -> list[Outcome]:
        """Fetch every due list now; call `on_change` once if any of them changed."""
        policy = self.policy()
        if policy is None:
            return []
        outcomes = []
        for remote in remote_lists(policy):
            if not due(self.cache_dir, remote.url, remote.refresh, time.time(), self.limits):
                continue
            outcome = await asyncio.to_thread(fetch_list, remote.url, remote.format, self.cache_dir, self.limits)
            outcomes.append(outcome)
            for category in remote.categories:
                self.on_result(category, outcome.result)
            level = logging.WARNING if outcome.result in ("failed", "rejected") else logging.INFO
            log.log(level, f"gonogo: list {remote.url} ({', '.join(remote.categories)}): {outcome.result}: "
                           f"{outcome.detail}")
        if any(o.result == "updated" for o in outcomes):
            result = self.on_change()
            if asyncio.iscoroutine(result):
                await result
        return outcomes
