"""Which connections are decrypted. Hosts no rule covers pass through undecrypted at `tls_clienthello`; in
no-CA mode (`gonogo_tls=passthrough-only`) nothing is decrypted and blocked hosts are refused at CONNECT or at
the TLS handshake instead. Errors fail closed: a connection is intercepted (so the request path decides) and a
CONNECT is refused."""

from __future__ import annotations

import logging
from typing import Any

from mitmproxy import ctx, http, tls

from ..pages import TEXT_HEADERS
from ..policy import Policy, Who
from ..policy.attention import RENDER
from .identity import connection_person, flow_person
from .state import GatewayState, normalised, refuse

log = logging.getLogger("gonogo")


class Passthrough:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.mode = "intercept"

    def load(self, loader: Any) -> None:
        loader.add_option("gonogo_tls", str, "intercept",
                          "intercept: decrypt covered hosts (needs the CA on clients); passthrough-only: decrypt "
                          "nothing, refuse blocked hosts at CONNECT/SNI and count time-boxes per connection.",
                          choices=["intercept", "passthrough-only"])

    def configure(self, updated: set[str]) -> None:
        if "gonogo_tls" in updated:
            self.mode = ctx.options.gonogo_tls

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        """Pass through, undecrypted, every connection no rule could ever decide. The CONNECT host and
        the SNI both count, so leaving out or faking one of them does not avoid the policy."""
        policy = self.state.policy
        if policy is None:
            return
        try:
            data.ignore_connection = self._ignore(policy, data)
        except Exception:
            # passing it through would let it escape the policy; intercepted, the request path decides
            log.exception("gonogo: could not decide whether to decrypt a connection; intercepting it")
            data.ignore_connection = False

    def _ignore(self, policy: Policy, data: tls.ClientHelloData) -> bool:
        names = [data.client_hello.sni]
        if data.context.server.address:
            names.append(data.context.server.address[0])
        hosts = normalised(names)
        person = connection_person(policy, data.context.client, self.state.directory)
        groups = None if policy.identity.trusted_header else policy.groups_of(
            person.user, person.ip, person.groups_from_directory)
        covered = any(h == self.state.status_host or policy.covers(h, groups) for h in hosts)
        if self.mode == "passthrough-only":
            # a blocked host is not passed through: the handshake with our (untrusted) certificate fails
            if covered and self._blocked(policy, person, hosts):
                return False
            self.state.metrics.passthrough("no-ca-mode")
            return True
        if covered:
            self.state.metrics.intercepted()
            return False
        self.state.metrics.passthrough("uncovered")
        return True

    def _blocked(self, policy: Policy, person: Who, hosts: list[str]) -> bool:
        decider = self.state.decider
        if decider is None:
            raise RuntimeError("no decider: the store is not open")
        return any(decider.peek(policy, person, h).decision == "block" for h in hosts)

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        """In no-CA mode the CONNECT is the only place to refuse a host or count a time-box."""
        if self.mode != "passthrough-only" or flow.response is not None or self.state.policy is None:
            return
        try:
            await self._connect(flow)
        except Exception:
            refuse(flow, "a CONNECT")

    async def _connect(self, flow: http.HTTPFlow) -> None:
        policy, decider = self.state.policy, self.state.decider
        assert policy is not None
        hosts = normalised([flow.request.host])
        if not hosts or not policy.covers(hosts[0]):
            return
        if decider is None:
            raise RuntimeError("no decider: the store is not open")
        person = flow_person(policy, flow, self.state.directory)
        # without decrypting nothing shows attention: opening a connection counts its minute, as it always did
        decision, _ = await decider.decide(policy, person, hosts, "GET", "/", RENDER)
        if decision.decision == "block":
            # browsers show their own error for a refused CONNECT; other clients read this text
            flow.response = http.Response.make(403, decision.reason.encode(), TEXT_HEADERS)
