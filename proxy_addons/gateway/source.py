"""Where the policy comes from: the `gonogo_policy` file, loaded at start-up and watched while the proxy
runs. A valid change goes into force at once; an invalid one is reported and the last good policy stays.
Remote category lists are read from their copies in `<state dir>/lists`, which a background refresh
keeps current (proxy_addons.lists.refresh); a refreshed list applies like a policy change."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mitmproxy import ctx, exceptions

from ..lists.refresh import ListRefresher
from ..policy import Policy, PolicyError, load_policy
from .reloader import PolicyWatcher
from .state import GatewayState

log = logging.getLogger("gonogo")

MAX_RELOAD_MS = 3_600_000


class PolicySource:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.watcher: PolicyWatcher | None = None
        self.refresher: ListRefresher | None = None

    def load(self, loader: Any) -> None:
        loader.add_option("gonogo_policy", str, "", "gonogo policy file (YAML); watched and reloaded on change.")
        loader.add_option("gonogo_reload_ms", int, 1000, "How often (milliseconds) the policy file is checked.")
        loader.add_option("gonogo_lists_interval", int, 60,
                          "How often (seconds) remote category lists are checked for being due (each list's "
                          "refresh: says when it is); 0 turns background fetching off.")

    def configure(self, updated: set[str]) -> None:
        if "gonogo_reload_ms" in updated:
            if not 0 < ctx.options.gonogo_reload_ms <= MAX_RELOAD_MS:
                raise exceptions.OptionsError(f"gonogo_reload_ms must be positive and at most {MAX_RELOAD_MS} "
                                              f"(an hour), not {ctx.options.gonogo_reload_ms}")
            if self.watcher is not None:
                self.watcher.interval = ctx.options.gonogo_reload_ms / 1000
        if "gonogo_policy" in updated:
            self._load(ctx.options.gonogo_policy)

    def _load(self, path: str) -> None:
        if not path:
            raise exceptions.OptionsError("gonogo_policy is required: --set gonogo_policy=policies/example.yaml")
        if self.watcher is not None and Path(path) == self.watcher.path:
            return  # unchanged (e.g. mitmproxy rolling back another option): the watcher keeps it current
        try:
            policy = load_policy(path, self.list_cache)
        except PolicyError as exc:
            if self.state.policy is None:
                raise exceptions.OptionsError(f"invalid policy:\n{exc}") from None
            # a run-time switch to a broken file is refused; mitmproxy puts the option back
            self.state.reload_failed(exc)
            raise exceptions.OptionsError(f"gonogo_policy: {path} is invalid; the policy in force stays") from None
        self.state.install(policy)
        if self.watcher is not None:
            self.watcher.watch(Path(path), policy)
            log.info(f"gonogo: now enforcing and watching {path}")

    def running(self) -> None:
        policy = self.state.policy
        if policy is None or self.state.fatal:
            return
        self.watcher = PolicyWatcher(Path(ctx.options.gonogo_policy), policy, ctx.options.gonogo_reload_ms / 1000,
                                     on_good=self._changed, on_bad=self.state.reload_failed,
                                     list_cache=self.list_cache)
        self.watcher.start()
        if ctx.options.gonogo_lists_interval > 0:
            self.refresher = ListRefresher(self.list_cache, lambda: self.state.policy, self.watcher.check,
                                           self.state.metrics.list_refreshed, ctx.options.gonogo_lists_interval)
            self.refresher.start()
        log.info(f"gonogo enforcing {policy.source} ({len(policy.rules)} rules, "
                 f"sha256 {policy.sha256[:12]})")

    @property
    def list_cache(self) -> Path:
        return self.state.state_dir / "lists"

    def _changed(self, policy: Policy) -> None:
        self.state.install(policy)

    async def done(self) -> None:
        if self.refresher is not None:
            await self.refresher.stop()
            self.refresher = None
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
