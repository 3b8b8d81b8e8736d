"""What may travel through a tunnel, and who owns it.

A tunnel to a host a rule covers carries HTTP (1.1, 2, WebSocket) or nothing: raw TCP after
`CONNECT video.test:443` (an SSH session, MQTT, a VPN) would be relayed undecided and uncounted, so it is
closed before the upstream is dialled. mitmproxy hands every connection it does not read as HTTP (after
decryption or in the clear, and after an `Upgrade` to anything but WebSocket) to its TCP layer, whose first
hook is `tcp_start`. Tunnels to hosts no rule covers stay passthrough (they never reach that hook).

The person behind a tunnel is fixed at its CONNECT (see `identity.flow_person`).
"""

from __future__ import annotations

import logging

from mitmproxy import http, tcp

from ..policy import Policy
from .closing import close
from .identity import connection_person, flow_person
from .state import GatewayState, normalised

log = logging.getLogger("gonogo")

HTTP_ALPNS = frozenset({b"http/1.1", b"h2", b"http/1.0", b"http/0.9"})


def covered(state: GatewayState, policy: Policy, names: list[str | None], client: object) -> bool:
    """Whether any of `names` (CONNECT target, SNI) is a host a rule covers for the person on `client`."""
    person = connection_person(policy, client, state.directory)
    groups = None if policy.identity.trusted_header else policy.groups_of(
        person.user, person.ip, person.groups_from_directory)
    return any(h == state.status_host or policy.covers(h, groups) for h in normalised(names))


def not_web(alpn_offers: list[bytes]) -> bool:
    """A TLS client that offers protocols, none of them HTTP: it means to speak something else."""
    return bool(alpn_offers) and not any(offer in HTTP_ALPNS for offer in alpn_offers)


class Tunnels:
    def __init__(self, state: GatewayState) -> None:
        self.state = state

    def http_connect(self, flow: http.HTTPFlow) -> None:
        """Fix who owns the tunnel now, from the CONNECT the trusted proxy sent."""
        policy = self.state.policy
        if policy is not None and flow.response is None:
            flow_person(policy, flow, self.state.directory)

    def tcp_start(self, flow: tcp.TCPFlow) -> None:
        policy = self.state.policy
        if policy is None:
            return
        server = flow.server_conn
        names = [flow.client_conn.sni, server.address[0] if server.address else None]
        try:
            refuse = covered(self.state, policy, names, flow.client_conn)
        except Exception:
            log.exception("gonogo: could not decide a non-HTTP tunnel; closing it")
            refuse = True
        if not refuse:
            return
        host = next((n for n in names if n), "?")
        log.info(f"gonogo: closed a non-HTTP connection to {host}: a covered host carries web traffic only")
        flow.kill()
        if server.timestamp_start is None:
            server.error = f"gonogo: only web traffic may pass to {host}"  # the TCP layer then dials nothing
        else:
            close(flow.client_conn, flow.server_conn)

    def tcp_message(self, flow: tcp.TCPFlow) -> None:
        """A killed flow's bytes never travel, whatever mitmproxy's TCP layer does next."""
        if flow.error is not None and flow.messages:
            flow.messages[-1].content = b""
