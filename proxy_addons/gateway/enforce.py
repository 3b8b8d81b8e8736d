"""The policy applied to each request (and each WebSocket message): decided on the request's own host before
any upstream connection is made (lazy connection strategy), answered with a block or warn page when not
allowed. Any error refuses the traffic: an enforcing gateway fails closed."""

from __future__ import annotations

import logging

from mitmproxy import ctx, http

from ..policy import Decision
from ..policy.attention import BACKGROUND, CLIENT_MESSAGE, SERVER_PUSH, classify
from .closing import close
from .identity import flow_person
from .names import BadRequest, request_names, request_readings
from .refusal import refusal
from .state import GatewayState, refuse

log = logging.getLogger("gonogo")


class Enforce:
    def __init__(self, state: GatewayState) -> None:
        self.state = state

    def running(self) -> None:
        if getattr(ctx.options, "connection_strategy", "lazy") != "lazy":  # no such option without a proxyserver
            # eager would dial a blocked host at CONNECT time; gonogo decides before any upstream contact
            log.info("gonogo: setting connection_strategy=lazy so blocked hosts are never contacted")
            ctx.options.update(connection_strategy="lazy")

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or not self.state.ready:
            return  # answered already (our own pages, proxyauth's 407), or not enforcing yet
        try:
            await self._decide(flow)
        except Exception:
            refuse(flow, "a request")

    async def _decide(self, flow: http.HTTPFlow) -> None:
        policy, decider, responder = self.state.policy, self.state.decider, self.state.responder
        assert policy is not None and decider is not None and responder is not None
        req = flow.request
        try:
            hosts = request_names(flow)
        except BadRequest as bad:
            flow.response = refusal(400, bad.key, req)
            return
        person = flow_person(policy, flow, self.state.directory)
        attention = classify(req.headers.get)
        method, path, variants = request_readings(flow)
        decision, host = await decider.decide_each(policy, person, hosts, method, path, variants, attention)
        flow.metadata["gonogo"] = decision
        flow.metadata["gonogo_attention"] = (attention, host)
        if decision.decision != "allow":
            flow.response = responder.refusal(policy, person, decision, host, req, self.state.status_host)
        elif decision.quota is not None and decision.quota.heads_up:
            flow.response = responder.heads_up(policy, person, decision, host, req, self.state.status_host)

    async def response(self, flow: http.HTTPFlow) -> None:
        decision: Decision | None = flow.metadata.get("gonogo")
        if decision is None or decision.decision != "allow" or decision.quota is None or flow.response is None:
            return
        flow.response.headers["X-Gonogo-Minutes-Left"] = str(decision.quota.left)
        attention, host = flow.metadata.get("gonogo_attention", ("", ""))
        if attention == BACKGROUND and not decision.quota.counted and self.state.ready:
            try:
                await self._moved(flow, decision, host)
            except Exception:  # the response is on its way; a tally error must not stop it
                log.exception("gonogo: could not count a background response")

    async def _moved(self, flow: http.HTTPFlow, decision: Decision, host: str) -> None:
        """Background data counts towards the minute (see Decider.moved): the body's size, or its announced
        Content-Length when it is streamed."""
        policy, decider = self.state.policy, self.state.decider
        assert policy is not None and decider is not None and flow.response is not None
        body = flow.response.raw_content
        size = len(body) if body is not None else int(flow.response.headers.get("content-length", "0") or 0)
        await decider.moved(policy, flow_person(policy, flow), decision, host, flow.request.method,
                            flow.request.path.split("?")[0], BACKGROUND, size)

    async def websocket_message(self, flow: http.HTTPFlow) -> None:
        """A message on a covered host is decided like a request and stops when the budget does; one the client
        sends shows attention and spends a minute, one the server pushes does not (see policy/attention.py)."""
        if flow.metadata.get("gonogo") is None or not self.state.ready:
            return
        try:
            allowed = await self._still_allowed(flow)
        except Exception:
            log.exception(f"gonogo: could not decide a WebSocket message to {flow.request.host}; closing it")
            allowed = False
        if not allowed:
            if flow.websocket is not None and flow.websocket.messages:
                flow.websocket.messages[-1].drop()
            flow.kill()
            close(flow.client_conn, flow.server_conn)  # a WebSocket ignores kill()

    async def _still_allowed(self, flow: http.HTTPFlow) -> bool:
        policy, decider = self.state.policy, self.state.decider
        assert policy is not None and decider is not None
        hosts = request_names(flow)
        person = flow_person(policy, flow, self.state.directory)
        messages = flow.websocket.messages if flow.websocket is not None else []
        attention = CLIENT_MESSAGE if messages and messages[-1].from_client else SERVER_PUSH
        again, _ = await decider.decide_each(policy, person, hosts, "GET", request_readings(flow)[1], (), attention)
        return again.decision == "allow"
