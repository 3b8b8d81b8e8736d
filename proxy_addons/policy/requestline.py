"""The request as the origin will see it: the path after the normalisation origins apply, and every method
a framework may act on. Rules are matched against these, not against the raw bytes a client chose, or
`/%64irect/inbox`, `//direct/inbox` and `GET` with `X-HTTP-Method-Override: POST` would walk past a rule
about `/direct/*` or `POST`.

Pure: the proxy and `gonogo explain` both use it, so explain shows what the proxy decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl

# the request headers through which common frameworks let a client replace the method (Rails, Express's
# method-override, Symfony, Laravel, ASP.NET, Google APIs)
METHOD_OVERRIDE_HEADERS = ("x-http-method-override", "x-http-method", "x-method-override")
METHOD_PARAMETER = "_method"  # Rails, Laravel, Symfony: a form or query parameter

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _unreserved_or_upper(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _any_char(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on a path that starts with '/'; repeated slashes count as one."""
    out: list[str] = []
    segments = path.split("/")[1:]
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        elif segment == ".":
            if last:
                out.append("")
        elif segment or last:
            out.append(segment)
    return "/" + "/".join(out)


def normalize_path(path: str) -> str:
    """The path an origin routes on: without query or fragment, unreserved characters percent-decoded
    (`%64` is `d`), other escapes in upper case (`%2f` is `%2F`), `.` and `..` segments resolved and
    repeated slashes folded (`//direct/./x/../inbox` is `/direct/inbox`). Never empty; always starts with '/'."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    if "%" in path:
        path = _ESCAPE.sub(_unreserved_or_upper, path)
    if not path.startswith("/"):
        path = "/" + path  # asterisk-form (OPTIONS *) and the like
    return _remove_dot_segments(path)


def path_variants(path: str) -> tuple[str, ...]:
    """The normalised path, and when escapes of reserved characters remain, the path with those decoded
    too (some servers decode `%2F` before routing): a rule matches if it matches either."""
    normal = normalize_path(path)
    if "%" not in normal:
        return (normal,)
    decoded = normalize_path(_ESCAPE.sub(_any_char, normal))
    return (normal,) if decoded == normal else (normal, decoded)


def request_methods(method: str, overrides: Iterable[str] = (), query: str = "") -> tuple[str, ...]:
    """The request's method, then every other method an override header value (`overrides`) or a `_method`
    query parameter names, upper-cased, without repeats. Values that are not method tokens are left out:
    frameworks ignore them too."""
    found = [method.upper()]
    values = list(overrides)
    if METHOD_PARAMETER in query:
        values += [v for k, v in parse_qsl(query, keep_blank_values=True) if k == METHOD_PARAMETER]
    for value in values:
        for item in value.split(","):
            candidate = item.strip().upper()
            if candidate and _TOKEN.fullmatch(candidate) and candidate not in found:
                found.append(candidate)
    return tuple(found)
