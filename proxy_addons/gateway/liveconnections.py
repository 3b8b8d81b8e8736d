"""A policy change reaches connections that are already open.

Intercepted connections are decided request by request, so a new policy applies to their next request. A
connection passed through undecrypted is decided once, at its TLS ClientHello: a kept-alive passthrough
connection to `bank.test` would carry on after a reload made `bank.test` blocked. So every passed-through
connection is remembered with the names it was decided on, and when a policy goes into force each is
decided again the way `Passthrough` decides it; one the new policy would no longer pass through untouched
(now covered, or now blocked in no-CA mode) is closed. The client reconnects and meets the new policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mitmproxy import ctx, tls

from ..policy import Policy
from .closing import close
from .identity import connection_person
from .state import GatewayState, normalised

log = logging.getLogger("gonogo")


@dataclass(eq=False)
class Passed:
    client: Any  # mitmproxy.connection.Client
    hosts: list[str]  # the SNI and CONNECT host, normalised


class LiveConnections:
    """Runs after `Passthrough` (its `tls_clienthello` has decided `ignore_connection`)."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.passed: dict[str, Passed] = {}  # client connection id -> what it was passed through for
        state.on_install.append(self.reconsider)

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        client = data.context.client
        if not data.ignore_connection:
            self.passed.pop(client.id, None)
            return
        names = [data.client_hello.sni]
        if data.context.server.address:
            names.append(data.context.server.address[0])
        self.passed[client.id] = Passed(client, normalised(names))

    def client_disconnected(self, client: Any) -> None:
        self.passed.pop(client.id, None)

    def reconsider(self, policy: Policy) -> None:
        """Close every passed-through connection the new `policy` would not pass through."""
        closed = 0
        for key, passed in list(self.passed.items()):
            try:
                keep = self._passes(policy, passed)
            except Exception:  # undecidable under the new policy: closed, the reconnect is decided afresh
                log.exception("gonogo: could not decide an open connection again; closing it")
                keep = False
            if not keep:
                self.passed.pop(key, None)
                closed += close(passed.client)
        if closed:
            log.info(f"gonogo: closed {closed} open connection(s) the new policy decides differently")

    def _passes(self, policy: Policy, passed: Passed) -> bool:
        """`Passthrough`'s decision for these names under `policy` (without its metrics)."""
        person = connection_person(policy, passed.client, self.state.directory)
        groups = None if policy.identity.trusted_header else policy.groups_of(
            person.user, person.ip, person.groups_from_directory)
        covered = any(h == self.state.status_host or policy.covers(h, groups) for h in passed.hosts)
        if getattr(ctx.options, "gonogo_tls", "intercept") != "passthrough-only":
            return not covered
        if not covered:
            return True
        decider = self.state.decider
        if decider is None:
            return False
        return not any(decider.peek(policy, person, h).decision == "block" for h in passed.hosts)
