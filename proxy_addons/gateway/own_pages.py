"""The answers the proxy gives for its own addresses: the PAC file, the employee status page (on the reserved
`gonogo_status_host`) and the continue link of a warn page. These requests are never forwarded. Runs before
`Enforce`, which leaves alone any flow that already has a response."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from mitmproxy import ctx, exceptions, http

from ..policy import BadHost, normalize_host
from . import continuelink
from .identity import flow_person
from .state import DEFAULT_STATUS_HOST, GatewayState, normalised, refuse

log = logging.getLogger("gonogo")

PAC_PATHS = ("/proxy.pac", "/wpad.dat")
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


class OwnPages:
    def __init__(self, state: GatewayState) -> None:
        self.state = state

    def load(self, loader: Any) -> None:
        loader.add_option("gonogo_status_host", str, DEFAULT_STATUS_HOST,
                          f"Reserved host name of the employee status page (http://{DEFAULT_STATUS_HOST}/).")

    def configure(self, updated: set[str]) -> None:
        if "gonogo_status_host" in updated:
            self.state.status_host = status_host(ctx.options.gonogo_status_host)

    def running(self) -> None:
        if self.state.fatal:
            return
        ca = Path(ctx.options.confdir).expanduser() / "mitmproxy-ca-cert.pem"
        server = ctx.master.addons.get("proxyserver")
        ports = sorted({addr[1] for addr in server.listen_addrs()} if server is not None else ()) or ["PORT"]
        log.info(f"gonogo: clients trust the CA {ca} (or fetch it from http://mitm.it through the proxy); "
                 f"browsers can use the PAC file http://<this host>:{ports[0]}/proxy.pac")

    async def request(self, flow: http.HTTPFlow) -> None:
        if not self.state.ready:
            return
        try:
            await self._answer(flow)
        except Exception:
            refuse(flow, "a request")

    async def _answer(self, flow: http.HTTPFlow) -> None:
        state, req = self.state, flow.request
        policy, responder = state.policy, state.responder
        assert policy is not None and responder is not None
        hosts = normalised([req.host, req.host_header])
        to_proxy = addressed_to_proxy(flow)
        if req.path.split("?")[0] in PAC_PATHS and (to_proxy or state.status_host in hosts):
            # browsers fetch the PAC file before they use the proxy, so it needs no proxy authentication;
            # it names the proxy by the address this client reached it at
            ip, port = flow.client_conn.sockname[:2]
            own = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
            if to_proxy and req.host_header:
                own = req.host_header
            flow.response = await responder.pac(policy, own, state.status_host)
            return
        if flow.response is not None:
            return  # e.g. proxyauth answered 407
        if state.status_host in hosts:
            person = flow_person(policy, flow, state.directory)
            flow.response = await responder.status(policy, person, req)
        elif req.path.startswith(continuelink.CONTINUE_PATH):
            person = flow_person(policy, flow, state.directory)
            flow.response = await responder.continue_link(policy, person, req, hosts)


def status_host(value: str) -> str:
    """The status host, normalised; it goes into links on our pages and into the PAC file, so only a plain
    DNS name will do."""
    try:
        host = normalize_host(value)
    except BadHost as exc:
        raise exceptions.OptionsError(f"gonogo_status_host: {exc}") from None
    if not _HOST_NAME.fullmatch(host):
        raise exceptions.OptionsError(f"gonogo_status_host: {value!r} is not a host name (letters, digits, "
                                      "hyphens and dots)")
    return host


def addressed_to_proxy(flow: http.HTTPFlow) -> bool:
    """A plain request for the proxy's own address (a browser fetching its PAC file)."""
    sock = flow.client_conn.sockname
    return bool(sock) and flow.request.scheme == "http" and flow.request.port == sock[1] and (
        not flow.client_conn.tls_established)
