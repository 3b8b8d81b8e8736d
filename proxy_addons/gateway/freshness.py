"""An admin's change applies at once: `gonogo quota grant`/`reset` move a change counter in the store
(`Ledger.changes`); this watch polls it in the background, about once a second and never per request, and
tells the decider to forget what it remembered of budgets when it moves. So the person's next request, on
every proxy sharing the store, is decided on the new figures, while normal traffic still writes the store
once per (person, budget, minute)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ..background import BackgroundTask
from ..usage import Ledger

log = logging.getLogger("gonogo")

POLL_SECONDS = 0.5  # a change is seen within this plus one store round trip: well within 2 s


class ChangeWatch:
    def __init__(self, ledger: Ledger, on_change: Callable[[], None], interval: float = POLL_SECONDS) -> None:
        self.ledger = ledger
        self.on_change = on_change
        self.interval = interval
        self._task = BackgroundTask()
        self._seen: int | None = None

    def start(self) -> None:
        if not self._task.running:
            self._task.start(self._run(), "gonogo-store-changes")

    async def check(self) -> bool:
        """Read the counter once; True (and `on_change` called) when it moved since the last reading."""
        try:
            now = await self.ledger.changes()
        except Exception:  # an outage: the resilient ledger reports it; nothing can change meanwhile
            log.debug("gonogo: reading the store's change counter failed", exc_info=True)
            return False
        moved = self._seen is not None and now != self._seen
        self._seen = now
        if moved:
            self.on_change()
        return moved

    async def _run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.interval)  # a polling pace, not synchronisation

    async def stop(self) -> None:
        await self._task.stop()
