"""The short answer to a request or tunnel the gateway refuses whatever the policy says (two `Host` headers,
a destination that is the gateway itself): one plain-text sentence from the wording tables, in the
language the client asks for."""

from __future__ import annotations

from mitmproxy import http

from ..pages import TEXT_HEADERS
from ..policy.wording import pick_language, text


def refusal(status: int, key: str, request: http.Request, **values: str) -> http.Response:
    """`key` names an `integrity.*` wording entry."""
    lang = pick_language(request.headers.get("accept-language"))
    body = text(lang, f"integrity.{key}", None, **values) + "\n"
    return http.Response.make(status, body.encode("utf-8"),
                              {**TEXT_HEADERS, "x-gonogo": "1", "x-gonogo-refused": key, "content-language": lang})
