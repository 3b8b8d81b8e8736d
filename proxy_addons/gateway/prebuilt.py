"""Blocked requests answered from pre-built parts: the block page or short 403 text of a decision is rendered
once and kept, as the encoded body and header fields; each request then only gets a fresh `Response` around
them.

Why: a blocked request never contacts the origin, so rendering the page (templates, wording, escaping) and
building mitmproxy headers from a dict were most of its cost. What a block answer says depends only on the
decision (rule, reason, message, quota, until), the host, the language, the status page's address, whether it
is a page load, and the local date (`when` words such as "tomorrow at 08:30" are relative to today). Those
form the key. A decision with a quota carries the minute of the request, so time-box answers are reused
within a minute at most, which is when the same person hits the same block again and again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

from mitmproxy import http

Fields = tuple[tuple[bytes, bytes], ...]
LIMIT = 4096  # distinct answers kept; more are rendered as before and the oldest half is forgotten


def fields_of(headers: dict[str, str], body: bytes) -> Fields:
    """Header fields as mitmproxy keeps them, with the body's Content-Length (which `Response.make` would add)."""
    encoded = [(k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape")) for k, v in headers.items()]
    return (*encoded, (b"content-length", str(len(body)).encode("ascii")))


def response(status: int, reason: bytes, fields: Fields, body: bytes) -> http.Response:
    """A new Response from pre-built parts (its own Headers object: later hooks may add headers)."""
    now = time.time()
    return http.Response(b"HTTP/1.1", status, reason, http.Headers(fields), body, None, now, now)


class Prebuilt:
    """A bounded cache of rendered answers: key -> (status, reason, header fields, body)."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._answers: dict[Hashable, tuple[int, bytes, Fields, bytes]] = {}
        self.rendered = 0  # how many answers were rendered (the rest came from the cache); for tests

    def get(self, key: Hashable, render: Callable[[], tuple[int, dict[str, str], bytes]]) -> http.Response:
        parts = self._answers.get(key)
        if parts is None:
            status, headers, body = render()
            self.rendered += 1
            parts = (status, _reason(status), fields_of(headers, body), body)
            if len(self._answers) >= self.limit:
                for old in list(self._answers)[: self.limit // 2]:
                    del self._answers[old]
            self._answers[key] = parts
        return response(*parts)

    def clear(self) -> None:
        self._answers.clear()


def _reason(status: int) -> bytes:
    from mitmproxy.net.http import status_codes

    return status_codes.RESPONSES.get(status, "").encode()
