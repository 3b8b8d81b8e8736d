"""Signed *continue* links for warn pages.

The link is answered by the proxy itself on a reserved path and never forwarded upstream. Its HMAC
binds it to one person and one rule and it expires, so a link shared in a chat does not let
somebody else past the warning, and an old one does not work tomorrow.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

CONTINUE_PATH = "/__gonogo__/continue"
LINK_LIFETIME_SECONDS = 600


def load_key(path: Path) -> bytes:
    """The proxy's secret, created on first use (0600) and kept in the state directory.

    Several processes may share one state directory and start together: the key is written to a
    private temporary file and linked into place, so a reader never sees a half-written key and the
    first writer wins for everybody."""
    try:
        key = path.read_bytes()
        if key:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp creates it 0600
    try:
        os.write(fd, secrets.token_bytes(32))
        os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return path.read_bytes()


@dataclass(frozen=True, slots=True)
class ContinueGrant:
    rule: str
    next_path: str


def _sign(key: bytes, person: str, rule: str, expires: int, next_path: str) -> str:
    message = "\x00".join((person, rule, str(expires), next_path)).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def make_path(key: bytes, person: str, rule: str, next_path: str, now: float) -> str:
    """The path (with query) of a continue link for `person` past `rule`, back to `next_path`."""
    expires = int(now) + LINK_LIFETIME_SECONDS
    query = urlencode({"rule": rule, "exp": expires, "next": next_path,
                       "sig": _sign(key, person, rule, expires, next_path)})
    return f"{CONTINUE_PATH}?{query}"


def verify(key: bytes, person: str, query: str, now: float) -> ContinueGrant | None:
    """The grant a continue link carries, or None when it is forged, someone else's or expired."""
    params = {k: v[0] for k, v in parse_qs(query).items() if v}
    try:
        rule, next_path, sig = params["rule"], params.get("next", "/"), params["sig"]
        expires = int(params["exp"])
    except (KeyError, ValueError):
        return None
    if expires < now or not next_path.startswith("/") or next_path.startswith("//"):
        return None
    if not hmac.compare_digest(sig, _sign(key, person, rule, expires, next_path)):
        return None
    return ContinueGrant(rule, next_path)


def followed_by_the_person(headers: Mapping[str, str], host: str) -> bool:
    """Whether a continue request is a top-level navigation the person started (a click on the warn page
    for `host`).

    The warn page is answered on the warned site's own origin, so that site could load it in a frame or
    navigate to its link by script and continue without the person. Browsers say how a request came about
    in the `Sec-Fetch-*` headers: a frame, a fetch, a cross-site or a script-started navigation is refused.
    Browsers send those headers over HTTPS only; without them a `Referer` from another host is refused.
    Clients that send neither (curl, older browsers) are not pages a site can script."""
    def get(name: str) -> str:
        return (headers.get(name) or "").strip().lower()

    mode, dest, site, user = (get("sec-fetch-mode"), get("sec-fetch-dest"), get("sec-fetch-site"),
                              get("sec-fetch-user"))
    if mode or dest or site or user:
        return mode == "navigate" and dest in ("document", "") and site != "cross-site" and user == "?1"
    referer = get("referer")
    return not referer or (urlsplit(referer).hostname or "") == host.lower().rstrip(".")
