"""The company directory's groups at run time: one `Membership` (proxy_addons/directory) per directory the
policy in force names, started when the proxy runs, kept in `GatewayState.directory` for the addons that
identify people.

A reload that leaves `identity.directory` alone only tells the membership which groups to read now; one that
changes it reconnects (a new client and refresher that start from the last known membership, so nobody loses
their groups while the new connection loads); one that drops it stops reading the directory.
"""

from __future__ import annotations

import asyncio
import logging

from ..directory import Membership
from ..policy import Policy
from .state import GatewayState

log = logging.getLogger("gonogo")


class DirectoryGroups:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.running_now = False
        self._stopping: set[asyncio.Task[None]] = set()
        state.on_install.append(self._policy_changed)

    def running(self) -> None:
        self.running_now = True
        if self.state.policy is not None and not self.state.fatal:
            self._sync(self.state.policy)

    def _policy_changed(self, policy: Policy) -> None:
        if self.running_now:  # at start-up `running` starts it: the event loop may not run yet
            self._sync(policy)

    def _sync(self, policy: Policy) -> None:
        settings = policy.identity.directory
        current = self.state.directory
        if current is not None and current.settings == settings:
            current.use(policy)
            return
        if current is not None:
            self._stop_later(current)
        if settings is None:
            self.state.directory = None
            if current is not None:
                log.info("gonogo: the policy no longer reads groups from a directory")
            return
        membership = Membership(settings, on_refresh=self.state.metrics.directory_refresh)
        if current is not None:
            membership.adopt(current)
            log.info(f"gonogo: identity.directory changed; connecting to {settings.url}")
        else:
            log.info(f"gonogo: reading directory groups from {settings.url} every {settings.refresh:g}s")
        membership.use(policy)
        membership.start()
        self.state.directory = membership

    def _stop_later(self, membership: Membership) -> None:
        task = asyncio.get_running_loop().create_task(membership.stop(), name="gonogo-directory-stop")
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def done(self) -> None:
        self.running_now = False
        membership, self.state.directory = self.state.directory, None
        if membership is not None:
            await membership.stop()
        for task in list(self._stopping):
            await task
