"""The addons in-process (mitmproxy's own test helpers): what happens when gonogo itself fails.
An enforcing gateway fails closed: an error refuses the traffic instead of letting it through."""

from __future__ import annotations

import asyncio
from typing import Any

from mitmproxy import tls
from mitmproxy.test import taddons, tflow, tutils

from proxy_addons.gateway.enforce import Enforce
from proxy_addons.gateway.own_pages import OwnPages
from proxy_addons.gateway.passthrough import Passthrough
from proxy_addons.gateway.state import GatewayState
from proxy_addons.policy import Decision, load_policy
from tests.conftest import EXAMPLE_POLICY


class BrokenDecider:
    unavailable = "allow"

    async def decide(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the decision path")

    def peek(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the decision path")


def broken_state() -> GatewayState:
    state = GatewayState(policy=load_policy(EXAMPLE_POLICY))
    state.decider = BrokenDecider()  # type: ignore[assignment]
    state.responder = object()  # type: ignore[assignment]
    return state


def test_an_internal_error_refuses_the_request_instead_of_forwarding_it() -> None:
    addon = Enforce(broken_state())
    with taddons.context(addon):
        flow = tflow.tflow()
        flow.request.host = "www.facebook.com"
        asyncio.run(addon.request(flow))
    assert flow.response is not None and flow.response.status_code == 503


def test_an_error_answering_our_own_pages_refuses_the_request() -> None:
    addon = OwnPages(broken_state())
    with taddons.context(addon):
        flow = tflow.tflow(req=tutils.treq(host="gonogo.status", port=80, path="/"))
        asyncio.run(addon.request(flow))
    assert flow.response is not None and flow.response.status_code == 503


def test_an_error_in_http_connect_refuses_the_tunnel() -> None:
    addon = Passthrough(broken_state())
    with taddons.context(addon) as tctx:
        tctx.configure(addon, gonogo_tls="passthrough-only")
        flow = tflow.tflow(req=tutils.treq(method=b"CONNECT", host="www.facebook.com", port=443, path=b""))
        asyncio.run(addon.http_connect(flow))
    assert flow.response is not None and flow.response.status_code == 503


def clienthello(sni: str) -> tls.ClientHelloData:
    return tls.ClientHelloData(_Context(tflow.tclient_conn()), _Hello(sni))  # type: ignore[arg-type]


class _Context:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.server = tflow.tserver_conn()
        self.server.address = None


class _Hello:
    def __init__(self, sni: str) -> None:
        self.sni = sni
        self.alpn_protocols: list[bytes] = []


def test_an_error_in_tls_clienthello_intercepts_rather_than_passing_through() -> None:
    """Passed through, the connection would escape the policy; intercepted, the request path decides."""
    for mode in ("intercept", "passthrough-only"):
        state = broken_state()
        addon = Passthrough(state)
        with taddons.context(addon) as tctx:
            tctx.configure(addon, gonogo_tls=mode)
            data = clienthello("www.facebook.com")
            state.policy = _ExplodingPolicy()  # type: ignore[assignment]
            asyncio.run(addon.tls_clienthello(data))
        assert data.ignore_connection is False, mode


class _ExplodingPolicy:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("a bug in the policy lookup")


def test_an_error_on_a_websocket_message_closes_the_websocket() -> None:
    addon = Enforce(broken_state())
    with taddons.context(addon):
        flow = tflow.twebsocketflow()
        flow.metadata["gonogo"] = Decision("allow", "allow", None, None, None, "allowed")
        asyncio.run(addon.websocket_message(flow))
    assert flow.websocket is not None and flow.websocket.messages[-1].dropped
    assert flow.error is not None  # killed
