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
from .destinations import parse_address
from .identity import connection_person, flow_person
from .state import GatewayState, normalised, refuse
from .tunnels import covered, not_web

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

    async def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        """Pass through, undecrypted, every connection no rule could ever decide. The CONNECT host and
        the SNI both count, so leaving out or faking one of them does not avoid the policy."""
        policy = self.state.policy
        if policy is None:
            return
        try:
            data.ignore_connection = await self._ignore(policy, data)
        except Exception:
            # passing it through would let it escape the policy; intercepted, the request path decides
            log.exception("gonogo: could not decide whether to decrypt a connection; intercepting it")
            data.ignore_connection = False

    async def _ignore(self, policy: Policy, data: tls.ClientHelloData) -> bool:
        sni = data.client_hello.sni
        names = [sni]
        if data.context.server.address:
            names.append(data.context.server.address[0])
        hosts = normalised(names)
        person = connection_person(policy, data.context.client, self.state.directory)
        is_covered = covered(self.state, policy, names, data.context.client)
        if self.mode == "passthrough-only":
            # not passed through: a blocked host, and TLS to a covered host that offers no web protocol;
            # the handshake with our (untrusted) certificate fails, or the non-HTTP tunnel is closed
            if is_covered and (not_web(data.client_hello.alpn_protocols) or await self._blocked(policy, person, hosts)):
                return False
            self.state.metrics.passthrough("no-ca-mode")
            return True
        if is_covered or (not sni and all(parse_address(h) is not None for h in hosts)):
            # an address without a name says nothing about the site: decrypted, its Host header is decided
            self.state.metrics.intercepted()
            return False
        self.state.metrics.passthrough("uncovered")
        return True

    async def _blocked(self, policy: Policy, person: Who, hosts: list[str]) -> bool:
        """An SNI other than the CONNECT host is decided (and a time-box charged) like the CONNECT:
        `CONNECT <ip>:443` with a covered SNI is the same request as a CONNECT to that name. Otherwise the
        CONNECT was decided already; a look without usage suffices (and counts no decision twice)."""
        decider = self.state.decider
        if decider is None:
            raise RuntimeError("no decider: the store is not open")
        if len(hosts) > 1:
            decision, _ = await decider.decide_each(policy, person, hosts, "GET", "/")
            return decision.decision == "block"
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
        decision, _ = await decider.decide(policy, person, hosts, "GET", "/", attention=RENDER)
        if decision.decision == "block":
            # browsers show their own error for a refused CONNECT; other clients read this text
            flow.response = http.Response.make(403, decision.reason.encode(), TEXT_HEADERS)
