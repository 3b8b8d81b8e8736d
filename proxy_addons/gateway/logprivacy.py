"""The log keeps the promise the employee notice makes: no URL paths, queries or client addresses.

mitmproxy prints every flow (method, full URL with query) through its dumper and prefixes every connection
message with the client's address (`[10.1.2.3:51234] client connect`). By default gonogo mutes the dumper
(unless the admin chose a `flow_detail` themselves), drops the per-connection connect/disconnect lines and
strips the client address from the rest. `gonogo_log_requests` (`gonogo run --log-requests`) turns
mitmproxy's per-request logging back on, on purpose.
"""

from __future__ import annotations

import logging
from typing import Any

from mitmproxy import ctx

log = logging.getLogger("gonogo")

# The loggers that tag their records with the client's address (mitmproxy 11).
CONNECTION_LOGGERS = ("mitmproxy.proxy.server", "mitmproxy.proxy.layers.http._http_h2")
_CONNECTION_LINES = ("client connect", "client disconnect", "server connect", "server disconnect")


class PrivateConnectionLog(logging.Filter):
    """Drop connect/disconnect lines (one per connection, naming the client) and strip the client address
    from every other record, so mitmproxy's formatter prints no `[address]` prefix."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno <= logging.INFO and message.startswith(_CONNECTION_LINES):
            return False
        if getattr(record, "client", None) is not None:
            record.client = None
        return True


class LogPrivacy:
    def __init__(self) -> None:
        self.filter = PrivateConnectionLog()
        self._muted_dumper = False  # we set flow_detail=0 (and may put it back)
        self._running = False

    def load(self, loader: Any) -> None:
        loader.add_option("gonogo_log_requests", bool, False,
                          "Log every request (method, URL with path and query) and client addresses, as "
                          "mitmproxy does. Off by default: the employee notice promises URLs are not recorded.")

    def configure(self, updated: set[str]) -> None:
        if "gonogo_log_requests" in updated:
            if ctx.options.gonogo_log_requests:
                self._unfilter()
            else:
                for name in CONNECTION_LOGGERS:
                    logging.getLogger(name).addFilter(self.filter)  # adding twice is a no-op
            if self._running:
                self._dumper()

    def running(self) -> None:
        self._running = True
        self._dumper()

    def _dumper(self) -> None:
        options = ctx.options
        if "flow_detail" not in options:  # no dumper loaded: nothing prints flows
            return
        if not options.gonogo_log_requests and options.flow_detail > 0 and not options.has_changed("flow_detail"):
            options.update(flow_detail=0)
            self._muted_dumper = True
            log.info("gonogo: request URLs and client addresses are not logged (--log-requests turns them on)")
        elif options.gonogo_log_requests and self._muted_dumper:
            options.update(flow_detail=options.default("flow_detail"))
            self._muted_dumper = False

    async def done(self) -> None:
        self._unfilter()

    def _unfilter(self) -> None:
        for name in CONNECTION_LOGGERS:
            logging.getLogger(name).removeFilter(self.filter)
