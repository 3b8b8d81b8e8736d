"""What a decision is asked about: who asks (`Who`) and what they ask for (`Request`), as plain values.

Beside the engine so the gateway, `gonogo explain` and the tests build the same inputs; `engine` re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from .attention import UNKNOWN
from .hosts import normalize_host
from .requestline import normalize_path


@dataclass(frozen=True, slots=True)
class Who:
    """Who is asking: a user name when the proxy knows one (normalised, see names.normalize_user), the
    client address, and the groups the company directory says the person is in. The directory's answer is an
    input like the address: the gateway looks it up (never waiting for the directory), the engine merges it
    (Policy.groups_of)."""

    user: str | None = None
    ip: str | None = None
    groups_from_directory: tuple[str, ...] = ()  # names of the policy's `directory:` groups

    @property
    def key(self) -> str:
        """Ledger key: the user name, or the address for people without one."""
        if self.user:
            return f"user:{self.user}"
        return f"ip:{self.ip or 'unknown'}"


@dataclass(frozen=True, slots=True)
class Request:
    host: str  # normalised (see hosts.normalize_host)
    method: str = "GET"
    path: str = "/"
    attention: str = UNKNOWN  # what the gateway observed (attention.classify); decides whether a minute counts
    background_bytes: int = 0  # bytes background requests of this person and budget moved in this minute

    @classmethod
    def from_url(cls, url: str, method: str = "GET", attention: str = UNKNOWN, background_bytes: int = 0) -> Request:
        if "://" not in url:
            url = "https://" + url
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        return cls(normalize_host(host), method.upper(), normalize_path(parts.path or "/"), attention,
                   background_bytes)
