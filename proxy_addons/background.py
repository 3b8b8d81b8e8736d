"""One background task per owner, started on the running loop and cancelled on stop.

The policy watcher, the list refresher, the store's change poll, the exception book and the webhook each keep
one such task; they share this so that stopping is done (and awaited) the same way everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class BackgroundTask:
    """Holds at most one task; `stop()` cancels it and waits until it has ended."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self._task = asyncio.get_running_loop().create_task(work, name=name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
