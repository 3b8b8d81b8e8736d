"""`--resolve` keeps connection reuse: requests on one client connection to a mapped host share one
upstream connection (before, each request dialled a new one and, under load, some were left waiting)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.proxy import Gonogo, Origin

POLICY = """\
version: 1
timezone: UTC
categories:
  social: {domains: [facebook.test]}
rules:
  - {name: social allowed, categories: [social], action: allow}
default: allow
"""


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gonogo]:
    work = tmp_path_factory.mktemp("resolve")
    policy = work / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(work, policy, "--log-requests").start()  # the test reads connection lines with addresses
    yield gonogo
    assert gonogo.stop() == 0, gonogo.output()


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_requests_on_one_connection_share_one_upstream_connection(proxy: Gonogo, origin: Origin,
                                                                  scheme: str) -> None:
    port = origin.https_port if scheme == "https" else origin.http_port
    before = len(origin.seen)
    with proxy.client(also_trust=[Path(origin.cert)]) as client:
        for i in range(3):
            r = client.get(f"{scheme}://facebook.test:{port}/reuse/{i}")
            assert r.status_code == 200 and f"/reuse/{i}" in r.text
        local_port = re.escape(str(port))
        client_line = proxy.wait_for(rf"server connect facebook\.test:{local_port}|server connect 127\.0\.0\.1:"
                                     rf"{local_port}")
    assert len(origin.seen) == before + 3
    # every line of this client connection carries its address: exactly one upstream connection was made
    client_address = client_line.split("]", 2)[1].lstrip("[")
    proxy.wait_for(rf"\[{re.escape(client_address)}\] client disconnect")
    connects = [line for line in proxy.output().splitlines()
                if f"[{client_address}]" in line and "server connect" in line]
    assert len(connects) == 1, connects
