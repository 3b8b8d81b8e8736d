"""mitmproxy's own LDAP proxy authentication (`--set proxyauth=ldap:HOST[:PORT]:BIND_DN:PASSWORD:SUBTREE
[?search_filter_key=uid]`), made fit for a gateway that must outlive its directory.

mitmproxy's validator binds once at start and keeps that connection for ever: after the directory restarts
every new login is refused (407) until the proxy restarts. It also waits without limit on a directory that
does not answer (on the event loop, so every connection waits) and puts the user name into the search filter
unescaped. When the `proxyauth` option is an LDAP spec, this addon puts a validator in its place that takes
the same spec and: reconnects when the connection broke, bounds connecting and every answer by
LOGIN_TIMEOUT seconds, and escapes the name (RFC 4515). Anything that goes wrong refuses the login (407),
as mitmproxy does. A login still costs one search and one bind, synchronously: mitmproxy asks validators
synchronously, and remembers the result per client connection (a CONNECT tunnel logs in once).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException
from mitmproxy import ctx
from mitmproxy.addons.proxyauth import Ldap, Validator

from ..directory.names import escape

log = logging.getLogger("gonogo")

LOGIN_TIMEOUT = 3.0  # seconds: connecting to the directory and each of its answers, per login


class DirectoryLogin(Validator):
    """A user name and password checked against the directory: find the person's entry with the service
    account, then bind as that entry with the password given."""

    def __init__(self, spec: str, timeout: float = LOGIN_TIMEOUT) -> None:
        self.use_ssl, self.host, self.port, self.bind_dn, self.bind_password, self.subtree, self.filter_key = \
            Ldap.parse_spec(spec)
        self.timeout = timeout
        self._conn: ldap3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self, user: str | None, password: str | None) -> ldap3.Connection:
        # a new Server each time: ldap3 marks a Server's address unusable after one failed connect
        server = ldap3.Server(self.host, port=self.port, use_ssl=self.use_ssl, connect_timeout=self.timeout,
                              get_info=ldap3.NONE)
        conn = ldap3.Connection(server, user=user, password=password, read_only=True,
                                receive_timeout=max(1, math.ceil(self.timeout)), raise_exceptions=False)
        conn.open()
        return conn

    def _find(self, username: str) -> str | None:
        """The DN of the person's entry, through the service connection (renewed once if it broke)."""
        for attempt in (1, 2):
            fresh = self._conn is None
            try:
                if self._conn is None:
                    conn = self._connection(self.bind_dn, self.bind_password)
                    if not conn.bind():
                        log.warning(f"gonogo: proxyauth: the directory refused the service bind as {self.bind_dn}")
                        return None
                    self._conn = conn
                self._conn.search(self.subtree, f"({self.filter_key}={escape(username)})", attributes=[])
                if self._conn.result and self._conn.result.get("result") == 0:
                    entries = [e for e in self._conn.response or () if e.get("type") == "searchResEntry"]
                    return str(entries[0]["dn"]) if len(entries) == 1 else None
                if self._conn.result and self._conn.result.get("result") == 32:  # no such object
                    return None
                raise LDAPException(str(self._conn.result))
            except (LDAPException, OSError) as exc:
                self._drop()
                if fresh or attempt == 2:
                    log.warning(f"gonogo: proxyauth: directory unavailable, login refused: {exc}")
                    return None
        return None

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.unbind()
        self._conn = None

    def __call__(self, username: str, password: str) -> bool:
        if not username or not password:
            return False
        with self._lock:
            dn = self._find(username)
        if dn is None:
            return False
        try:
            conn = self._connection(dn, password)
            ok = bool(conn.bind())
            conn.unbind()
            return ok
        except (LDAPException, OSError):
            return False


class LdapLogin:
    """Puts DirectoryLogin in place of mitmproxy's LDAP validator whenever `proxyauth` is an LDAP spec."""

    def configure(self, updated: set[str]) -> None:
        if "proxyauth" not in updated:
            return
        spec = ctx.options.proxyauth
        auth: Any = ctx.master.addons.get("proxyauth")
        if auth is None or not spec or not spec.startswith("ldap"):
            return
        if isinstance(auth.validator, Ldap):
            with contextlib.suppress(Exception):
                auth.validator.conn.unbind()  # mitmproxy's own connection, bound at start; ours replaces it
        auth.validator = DirectoryLogin(spec)
