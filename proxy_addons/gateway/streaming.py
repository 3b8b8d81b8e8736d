"""Bodies gonogo never reads are streamed, not buffered: mitmproxy holds a whole response in memory before
passing it on by default (a 64 MB download cost ~250 MB and reached the client only once complete), so one
large download could exhaust the gateway and stall everybody.

gonogo decides on the request line and headers only; no hook reads a body. So unless the admin chose
`stream_large_bodies` themselves, bodies above `DEFAULT_STREAM` go through as they arrive.
"""

from __future__ import annotations

import logging

from mitmproxy import ctx

log = logging.getLogger("gonogo")

DEFAULT_STREAM = "1m"


class Streaming:
    def running(self) -> None:
        options = ctx.options
        if "stream_large_bodies" not in options:  # no proxyserver (unit tests): nothing is proxied
            return
        if not options.stream_large_bodies and not options.has_changed("stream_large_bodies"):
            options.update(stream_large_bodies=DEFAULT_STREAM)
            log.info(f"gonogo: bodies larger than {DEFAULT_STREAM} are streamed (stream_large_bodies)")
