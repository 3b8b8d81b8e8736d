"""Posting exception-request events to an incoming webhook (Slack, Teams, Mattermost: JSON with `text`).

Never on a request's path: `post()` only puts the payload on a bounded queue; one background task sends
them in order, each in a worker thread (urllib, short timeout) and retried with exponential back-off, so a dead
or slow webhook costs requests nothing and loses nothing until the queue is full (then the oldest waits and
new ones are dropped and logged). What goes into a payload is decided by `exception_events.payload`, which
respects the policy's privacy level.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from collections.abc import Callable
from typing import Any

from ..background import BackgroundTask

log = logging.getLogger("gonogo")

QUEUE_LIMIT = 1000
TIMEOUT = 5.0  # seconds per attempt
BACKOFF = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0)  # waits between attempts; then the event is given up


def send(url: str, payload: dict[str, Any], timeout: float = TIMEOUT) -> None:
    """One POST; raises on a network error or a non-2xx answer."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, body, {"Content-Type": "application/json; charset=utf-8",
                                                 "User-Agent": "gonogo"}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # an admin-given http(s) URL
        answer.read()


class Webhook:
    def __init__(self, url: Callable[[], str | None], *, backoff: tuple[float, ...] = BACKOFF,
                 sender: Callable[[str, dict[str, Any]], None] = send) -> None:
        self.url = url  # read at send time: the policy (and its webhook) may be reloaded
        self.backoff = backoff
        self.sender = sender
        self.sent = 0
        self.failed = 0
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self._task = BackgroundTask()

    def post(self, payload: dict[str, Any]) -> None:
        if self.url() is None:
            return
        try:
            self._queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.failed += 1
            log.error("gonogo: webhook queue full; an exception-request event was not posted")
            return
        if not self._task.running:
            self._task.start(self._run(), "gonogo-webhook")

    async def _run(self) -> None:
        while True:
            payload = await self._queue.get()
            for attempt, wait in enumerate((*self.backoff, None)):
                url = self.url()
                if url is None:
                    break
                try:
                    await asyncio.to_thread(self.sender, url, payload)
                    self.sent += 1
                    break
                except Exception as exc:
                    if wait is None:
                        self.failed += 1
                        log.error(f"gonogo: webhook gave up after {attempt + 1} attempts: {exc}")
                        break
                    log.warning(f"gonogo: webhook attempt {attempt + 1} failed ({exc}); retrying in {wait:g} s")
                    await asyncio.sleep(wait)

    async def close(self) -> None:
        await self._task.stop()
