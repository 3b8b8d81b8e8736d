"""End to end, the gateway itself is not a destination: loopback, link-local and the gateway's own services are
refused by default; `--allow-upstream` admits a network on purpose, but never the proxy's own ports or the
quota ledger (a real redis-server), whose one `DEL` would reset a spent budget."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.proxy import Gonogo, Origin
from tests.support.raw import TcpListener, connect
from tests.support.redis import RedisServer, ping

POLICY = """\
version: 1
categories:
  video: {domains: [video.test]}
rules:
  - name: no video
    categories: [video]
    action: block
default: allow
"""


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture
def listener() -> Iterator[TcpListener]:
    server = TcpListener().start()
    yield server
    server.stop()


def refused_connect(gonogo: Gonogo, target: str) -> bytes:
    status, head, sock = connect(gonogo.port, target)
    sock.close()
    assert status == 403, (target, head)
    return head


def test_loopback_and_link_local_are_refused_by_default(tmp_path: Path, policy: Path, origin: Origin,
                                                        listener: TcpListener) -> None:
    gonogo = Gonogo(tmp_path, policy, allow_upstream=(), resolve=("bank.test",)).start()
    try:
        for target in (f"127.0.0.1:{listener.port}", f"127.0.0.2:{listener.port}", f"localhost:{listener.port}",
                       f"[::1]:{listener.port}", f"0.0.0.0:{listener.port}", f"[::ffff:127.0.0.1]:{listener.port}",
                       f"bank.test:{listener.port}",  # a name the proxy resolves (--resolve) to loopback
                       f"127.1:{listener.port}", f"2130706433:{listener.port}", f"0x7f000001:{listener.port}",
                       "169.254.169.254:80", "169.254.169.254:443", "[fe80::1]:443"):
            head = refused_connect(gonogo, target)
            assert b"does not connect to" in head or b"gateway" in head
        # a refused plain request: a short 403 text, in the person's language
        with httpx.Client(proxy=gonogo.url, timeout=20) as c:
            for url in (f"http://127.0.0.1:{origin.http_port}/secret", f"http://bank.test:{origin.http_port}/",
                        "http://169.254.169.254/latest/meta-data/"):
                answer = c.get(url)
                assert answer.status_code == 403, url
                assert answer.headers["x-gonogo-refused"] == "network"
                assert "loopback" in answer.text and answer.text[-1] == "\n"
            dutch = c.get(f"http://127.0.0.1:{origin.http_port}/", headers={"accept-language": "nl"})
            assert dutch.status_code == 403 and "maakt geen verbinding" in dutch.text
        assert listener.accepted == 0
        assert not [s for s in origin.seen if s.path in ("/secret", "/")]
    finally:
        assert gonogo.stop() == 0


def test_connect_ports_and_denied_networks(tmp_path: Path, policy: Path) -> None:
    gonogo = Gonogo(tmp_path, policy, "--deny-upstream", "10.9.0.0/16", "--connect-port", "443",
                    "--connect-port", "8443-8444", allow_upstream=()).start()
    try:
        # an intranet address stays reachable on an allowed port (lazy: nothing is dialled before a request)
        for target in ("10.1.2.3:443", "192.168.7.7:8443", "10.1.2.3:8444"):
            status, head, sock = connect(gonogo.port, target)
            sock.close()
            assert status == 200, (target, head)
        port = refused_connect(gonogo, "10.1.2.3:22")  # SSH to the intranet through the web proxy
        assert b"port 443, 8443-8444 only" in port
        assert b"does not connect" in refused_connect(gonogo, "10.9.3.4:443")
    finally:
        assert gonogo.stop() == 0


def test_allow_upstream_keeps_the_ledger_and_the_proxy_itself_refused(tmp_path: Path, policy: Path, origin: Origin,
                                                                     listener: TcpListener) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    gonogo = Gonogo(tmp_path, policy, resolve=("bank.test",), state=redis.url).start()
    try:
        for port in (redis.port, gonogo.port, gonogo.metrics_port):
            for host in ("127.0.0.1", "localhost", "bank.test", "127.0.0.2"):
                head = refused_connect(gonogo, f"{host}:{port}")
                assert b"own services" in head, head
        with httpx.Client(proxy=gonogo.url, timeout=20) as c:
            metrics = c.get(f"http://127.0.0.1:{gonogo.metrics_port}/metrics")
            assert metrics.status_code == 403 and metrics.headers["x-gonogo-refused"] == "own_service"
            assert c.get(f"http://127.0.0.1:{redis.port}/").status_code == 403
            # admitted on purpose: an origin on loopback, on any port
            assert c.get(f"http://bank.test:{origin.http_port}/fine").status_code == 200
        status, _, sock = connect(gonogo.port, f"127.0.0.1:{listener.port}")
        with sock:
            assert status == 200
            sock.sendall(b"hello\n")
            assert sock.recv(64) == b"hello\n"
        # the attack: DEL through a tunnel to the ledger never reaches Redis
        status, _, sock = connect(gonogo.port, f"127.0.0.1:{redis.port}")
        with sock:
            assert status == 403
        assert ping(redis.port)
    finally:
        assert gonogo.stop() == 0
        redis.stop()


def test_mitmdump_option_admits_loopback(tmp_path: Path, policy: Path, origin: Origin) -> None:
    """`gonogo_allow_upstream` is a mitmproxy option; the proxy's own ports stay refused under mitmdump too."""
    gonogo = Gonogo(tmp_path, policy, mitmdump=True, resolve=("bank.test",)).start()
    try:
        with httpx.Client(proxy=gonogo.url, timeout=20) as c:
            assert c.get(f"http://bank.test:{origin.http_port}/").status_code == 200
            itself = c.get(f"http://127.0.0.1:{gonogo.port}/x")
            assert itself.status_code == 403 and itself.headers["x-gonogo-refused"] == "own_service"
            assert c.get(f"http://127.0.0.1:{gonogo.port}/proxy.pac").status_code == 200  # still answered
        refused_connect(gonogo, f"127.0.0.1:{gonogo.metrics_port}")
    finally:
        assert gonogo.stop() == 0
