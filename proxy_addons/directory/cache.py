"""The last known directory membership, refreshed in the background; what the gateway reads per request.

Why it works this way:
- A request never waits on the directory: `groups(user)` answers from memory at once. The membership of every
  group the policy names is loaded at start and read again every `refresh` (only those groups).
- A person the last refresh did not place in any group is looked up once, on their own, in the background
  (they may have joined a group since); until the answer is in, they have the groups of the last known answer
  (none), so the policy's rules for everyone apply.
- The directory being down changes nothing for anyone: the last known membership stays in force, the metric
  `gonogo_directory_available` drops to 0 and a log line says so; the next refresh that succeeds (tried every
  RETRY_DOWN seconds at most while down) puts it back, without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..policy.directory import Directory
from .client import DirectoryClient, DirectoryError
from .names import dn_key

if TYPE_CHECKING:
    from ..policy import Policy

log = logging.getLogger("gonogo")

RETRY_DOWN = 30.0  # seconds between attempts while the directory is down (sooner if `refresh` is shorter)
MAX_PENDING = 32  # single-person look-ups under way at once; more wait for the next chance
MAX_REMEMBERED = 100_000  # people asked about / answers remembered; cleared whole when full


class Membership:
    """Group membership from one directory, for the groups of the policy in force (see `use`)."""

    def __init__(self, settings: Directory, on_refresh: Callable[[bool], None] | None = None,
                 client: DirectoryClient | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else DirectoryClient(settings)
        self.on_refresh = on_refresh  # called with True/False after every refresh (metrics)
        self.available: bool | None = None  # None until the first refresh answered or failed
        self.missing: tuple[str, ...] = ()  # named groups the directory does not have
        self._dns: dict[str, str] = {}  # dn_key -> distinguished name, of the groups the policy names
        self._names: dict[str, tuple[tuple[int, str], ...]] = {}  # dn_key -> (file position, group name)
        self._by_user: dict[str, frozenset[str]] | None = None  # user -> dn_keys; None: never loaded
        self._memo: dict[str, tuple[str, ...]] = {}
        self._asked: set[str] = set()
        self._pending: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    # ---- what the gateway asks ----
    def use(self, policy: Policy) -> None:
        """Serve the `directory:` groups of `policy` from now on; a new set of groups is read at once."""
        names: dict[str, list[tuple[int, str]]] = {}
        dns: dict[str, str] = {}
        for group in policy.groups.values():
            if group.directory:
                key = dn_key(group.directory)
                dns[key] = group.directory
                names.setdefault(key, []).append((group.index, group.name))
        changed = set(dns) != set(self._dns)
        self._dns = dns
        self._names = {k: tuple(v) for k, v in names.items()}
        self._memo.clear()
        if changed and self._wake is not None:
            self._wake.set()

    def groups(self, user: str | None) -> tuple[str, ...]:
        """The policy's names of the directory groups `user` (normalised) is in, as last known. Never waits."""
        if not user or not self._dns:
            return ()
        found = self._memo.get(user)
        if found is not None:
            return found
        keys = self._by_user.get(user) if self._by_user is not None else None
        if keys is None:
            keys = frozenset()
            if self._by_user is not None:
                self._look_up_later(user)
        found = self._group_names(keys)
        if len(self._memo) >= MAX_REMEMBERED:
            self._memo.clear()
        self._memo[user] = found
        return found

    def people(self) -> int:
        """How many people the last known membership places in a named group."""
        return len(self._by_user or ())

    def adopt(self, older: Membership) -> None:
        """Start from another instance's last known membership (a reload changed the connection settings)."""
        self._by_user = dict(older._by_user) if older._by_user is not None else None
        self._memo.clear()

    def _group_names(self, keys: frozenset[str]) -> tuple[str, ...]:
        found = sorted(pair for key in keys for pair in self._names.get(key, ()))
        return tuple(name for _, name in found)

    # ---- reading the directory ----
    async def refresh(self) -> bool:
        """Read every named group once more; True when the directory answered."""
        dns = list(self._dns.values())
        if not dns:
            self._by_user = self._by_user if self._by_user is not None else {}
            return True
        try:
            reports = await asyncio.to_thread(self.client.groups, dns)
        except DirectoryError as exc:
            self._went(False, str(exc))
            return False
        by_user: dict[str, set[str]] = {}
        for report in reports:
            for user in report.members or ():
                by_user.setdefault(user, set()).add(dn_key(report.dn))
        missing = tuple(r.dn for r in reports if r.members is None)
        if missing != self.missing and missing:
            log.warning(f"gonogo: the directory has no group {', '.join(missing)} (named in the policy)")
        self.missing = missing
        first = self._by_user is None
        self._by_user = {user: frozenset(keys) for user, keys in by_user.items()}
        self._memo.clear()
        self._asked.clear()
        if first:
            log.info(f"gonogo: directory membership loaded: {len(dns) - len(missing)} groups, "
                     f"{len(by_user)} people")
        self._went(True, "")
        return True

    def _went(self, ok: bool, why: str) -> None:
        if not ok and self.available is not False:
            known = "no membership is known yet" if self._by_user is None else \
                f"the last known membership ({len(self._by_user)} people) stays in force"
            log.warning(f"gonogo: directory unavailable ({why}); {known}")
        elif ok and self.available is False:
            log.info(f"gonogo: directory {self.settings.url} available again; membership refreshed")
        self.available = ok
        if self.on_refresh is not None:
            self.on_refresh(ok)

    def _look_up_later(self, user: str) -> None:
        if user in self._asked or len(self._pending) >= MAX_PENDING:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not on the proxy's loop (a test or a tool): nothing to schedule on
        if len(self._asked) >= MAX_REMEMBERED:
            self._asked.clear()
        self._asked.add(user)
        task = loop.create_task(self._look_up(user), name="gonogo-directory-lookup")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _look_up(self, user: str) -> None:
        dns = list(self._dns.values())
        try:
            keys = await asyncio.to_thread(self.client.user_groups, user, dns)
        except DirectoryError as exc:
            log.debug(f"gonogo: directory look-up of a person failed: {exc}")
            self._asked.discard(user)  # ask again the next time they are seen
            return
        if self._by_user is not None and keys:
            self._by_user[user] = keys
            self._memo.pop(user, None)

    # ---- life cycle ----
    def start(self) -> None:
        """Load in the background now and refresh on the interval (on the running event loop)."""
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="gonogo-directory-refresh")

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                await self.refresh()
            except Exception:  # a refresher that dies silently would freeze membership forever
                log.exception("gonogo: directory refresh failed; retrying")
            wait = self.settings.refresh if self.available is not False else min(self.settings.refresh, RETRY_DOWN)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._pending) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        await asyncio.to_thread(self.client.close)
