"""Everything a request says about where it goes and what it does, read once for the decision.

A client names the site in up to five places: the CONNECT target (the address mitmproxy dials), the TLS SNI
(what the origin's TLS server picks a site by), the `Host` header, an absolute-form request target and the
HTTP/2 `:authority`. An origin may act on any of them, so the request is decided on all of them and the
strictest decision wins; a request that names its site twice in `Host`, or unreadably, is refused (400),
never decided on whichever name is convenient. Likewise the method and path are read as the origin's
framework will read them (see `policy/requestline.py`).
"""

from __future__ import annotations

from mitmproxy import http
from mitmproxy.net.http import url

from ..policy import BadHost, normalize_host
from ..policy.requestline import METHOD_OVERRIDE_HEADERS, path_variants, request_methods

_FORM = "application/x-www-form-urlencoded"
_FORM_LIMIT = 64 * 1024  # a `_method` in a form body larger than this is not looked for
_OVERRIDES = frozenset(name.encode() for name in METHOD_OVERRIDE_HEADERS)  # one pass over the raw header fields


class BadRequest(Exception):
    """The request cannot be decided as it stands; `key` is its wording key (`integrity.<key>`)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _same(value: str, host: str) -> bool:
    """`value` is `host` or `host:port`, as nearly every request has it: no parsing needed."""
    return value == host or (value.startswith(host) and value[len(host):len(host) + 1] == ":"
                             and value[len(host) + 1:].isdigit())


def _authority(value: str) -> str:
    try:
        host, _port = url.parse_authority(value.strip(), check=True)
        return normalize_host(host)
    except (ValueError, BadHost):
        raise BadRequest("bad_host") from None


def request_names(flow: http.HTTPFlow) -> list[str]:
    """The distinct normalised host names `flow` gives, the one mitmproxy dials first. Raises BadRequest
    for two `Host` headers or one that is no host[:port]."""
    req = flow.request
    given = req.headers.get_all("host")
    if len(given) > 1:
        raise BadRequest("two_hosts")
    names: list[str] = []
    try:
        names.append(normalize_host(req.host))
    except BadHost:
        raise BadRequest("bad_host") from None
    said = [v for v in given if v.strip()]
    if req.authority:
        said.append(req.authority)
    sni = flow.client_conn.sni
    if sni:
        said.append(sni)
    for value in said:
        if _same(value, req.host):
            continue
        name = _authority(value)
        if name not in names:
            names.append(name)
    return names


def request_readings(flow: http.HTTPFlow) -> tuple[str, str, list[tuple[str, str]]]:
    """(method, path, further (method, path) readings) of the request as origins may read it."""
    req = flow.request
    target, _, query = req.path.partition("?")
    overrides = [v.decode("latin-1") for k, v in req.headers.fields if k.lower() in _OVERRIDES]
    if req.method == "POST" and req.headers.get("content-type", "").startswith(_FORM) and (
            req.raw_content is not None and len(req.raw_content) <= _FORM_LIMIT):
        overrides += req.urlencoded_form.get_all("_method")
    methods = request_methods(req.method, overrides, query)
    paths = path_variants(target)
    readings = [(m, p) for m in methods for p in paths]
    method, path = readings[0]
    return method, path, readings[1:]
