"""Attention: whether a request shows that a person is looking at a time-boxed site, so its minute counts.

An idle tab keeps polling (fetch every few seconds, a chat WebSocket pushing updates); counting those
requests spends a person's budget while they look at something else. Browsers say why they ask
(`Sec-Fetch-Mode`, `Sec-Fetch-Dest`), so the gateway classifies each request (`classify`) and the engine
decides whether its minute counts (`counts`), under the policy's `counting:` (attention, the default, or
requests: every request counts, as before).

Pure: a function of header values and policy settings, no I/O, so `gonogo explain` says the same as the proxy.
"""

from __future__ import annotations

from collections.abc import Callable

#: what the gateway observed about a request (bounded: these are also metric label values)
NAVIGATE = "navigate"  # a page load: Sec-Fetch-Mode navigate (or nested-navigate)
RENDER = "render"  # a sub-resource that is shown: image, video, audio, style, script, font, frame, ...
BACKGROUND = "background"  # fetch/XHR, beacons, pings: counts only with enough data in the minute
SERVER_PUSH = "server-push"  # a WebSocket message the server sent
CLIENT_MESSAGE = "client-message"  # a WebSocket message the client sent (typing, reacting)
UNKNOWN = "unknown"  # no Sec-Fetch-* headers: an app, an old browser, a script
ATTENTIONS = (NAVIGATE, RENDER, BACKGROUND, SERVER_PUSH, CLIENT_MESSAGE, UNKNOWN)

COUNTING_MODES = ("attention", "requests")
WITHOUT_FETCH_METADATA = ("requests", "never")
DEFAULT_BACKGROUND_KB = 256  # per person, budget and minute; see README "What counts as use"

# Sec-Fetch-Dest values of requests that do not render anything a person sees
_BACKGROUND_DESTS = frozenset({"empty", "report", "serviceworker", "sharedworker", "worker", "manifest",
                               "webidentity", "xslt"})
_NAVIGATION_MODES = frozenset({"navigate", "nested-navigate"})
_NAVIGATION_DESTS = frozenset({"document", "iframe", "frame", "embed", "object", "fencedframe"})


def classify(header: Callable[[str], str | None]) -> str:
    """The attention a request shows, from its Sec-Fetch-* headers (`header(name)` returns a header's value
    or None; names are lower case). Only `Sec-Fetch-Dest`/`-Mode` matter; a request with neither is UNKNOWN.

    - mode navigate, or a document/frame destination: NAVIGATE (a page load, or a frame inside one);
    - dest image, video, audio, style, script, font, track, ...: RENDER (what scrolling or watching loads);
    - dest empty (fetch/XHR), worker, report, ...: BACKGROUND (sendBeacon and pings have dest empty too)."""
    dest = (header("sec-fetch-dest") or "").strip().lower()
    mode = (header("sec-fetch-mode") or "").strip().lower()
    if not dest and not mode:
        return UNKNOWN
    if mode in _NAVIGATION_MODES or dest in _NAVIGATION_DESTS:
        return NAVIGATE
    if dest in _BACKGROUND_DESTS or not dest or mode == "websocket":
        return BACKGROUND
    return RENDER


def counts(mode: str, attention: str, background_bytes: int, threshold_bytes: int, without_metadata: str) -> bool:
    """Whether a request with `attention` spends a minute under `counting: mode`. `background_bytes`: what
    BACKGROUND requests of this person and budget moved so far in this minute."""
    if mode == "requests" or attention in (NAVIGATE, RENDER, CLIENT_MESSAGE):
        return True
    if attention == BACKGROUND:
        return background_bytes >= threshold_bytes
    if attention == UNKNOWN:
        return without_metadata == "requests"
    return False  # SERVER_PUSH


def not_spent_reason(attention: str) -> str:
    """The bounded metric reason of a request that was decided but did not spend a minute."""
    return "no-fetch-metadata" if attention == UNKNOWN else attention
