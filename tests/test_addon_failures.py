"""The addon in-process (mitmproxy's own test helpers): what happens when gonogo itself fails."""

from __future__ import annotations

import asyncio

from mitmproxy.test import taddons, tflow

from proxy_addons.addon import Gonogo
from proxy_addons.policy import load_policy
from tests.conftest import EXAMPLE_POLICY


class BrokenDecider:
    async def decide(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the decision path")


def test_an_internal_error_refuses_the_request_instead_of_forwarding_it() -> None:
    addon = Gonogo()
    with taddons.context(addon):
        addon.policy = load_policy(EXAMPLE_POLICY)
        addon.decider = BrokenDecider()  # type: ignore[assignment]
        addon.responder = object()  # type: ignore[assignment]
        flow = tflow.tflow()
        flow.request.host = "www.facebook.com"
        asyncio.run(addon.request(flow))
    assert flow.response is not None and flow.response.status_code == 503
