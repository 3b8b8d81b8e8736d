"""End to end, only web traffic through a covered tunnel, and no-CA mode decides on the SNI too: raw TCP (an SSH
banner) or TLS offering only `mqtt` to a covered host never reaches the upstream; uncovered hosts stay
passthrough; a person whose time-box is spent cannot pass with `CONNECT <ip>:443` and a covered SNI."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy_addons.policy import load_policy, period_of
from proxy_addons.usage.sqlite import SqliteLedger
from tests.support.proxy import Gonogo, Origin
from tests.support.raw import TcpListener, closed_without_reply, connect, exchange, tls

NAMES = ("video.test", "facebook.test", "bank.test", "chat.test")
POLICY = """\
version: 1
categories:
  video: {domains: [video.test]}
  social: {domains: [facebook.test]}
  chat: {domains: [chat.test]}
rules:
  - name: no video
    categories: [video]
    action: block
  - name: social time-box
    categories: [social]
    action: timebox
    quota: {minutes: 1, per: day}
  - name: chat time-box
    categories: [chat]
    action: timebox
    quota: {minutes: 600, per: day}
default: allow
"""
SSH = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"


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


def test_covered_tunnels_carry_only_http(tmp_path: Path, policy: Path, listener: TcpListener) -> None:
    gonogo = Gonogo(tmp_path, policy, resolve=NAMES).start()
    try:
        for host in ("video.test", "facebook.test"):  # blocked, and time-boxed
            status, _, sock = connect(gonogo.port, f"{host}:{listener.port}")
            with sock:
                assert status == 200
                sock.sendall(SSH)
                assert closed_without_reply(sock), host
            status, _, sock = connect(gonogo.port, f"{host}:{listener.port}")
            with tls(sock, host, alpn=["mqtt"]) as mqtt:  # the proxy's certificate: not checked by this client
                mqtt.sendall(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c")
                assert closed_without_reply(mqtt), host
        assert listener.accepted == 0 and not listener.received
        # an uncovered host stays a plain passthrough, whatever it carries
        status, _, sock = connect(gonogo.port, f"bank.test:{listener.port}")
        with sock:
            assert status == 200
            sock.sendall(SSH)
            assert sock.recv(64) == SSH
        assert listener.received == [SSH]
    finally:
        assert gonogo.stop() == 0


def test_http_and_websocket_still_pass(tmp_path: Path, policy: Path, origin: Origin) -> None:
    """The regression side: HTTP/1.1 in a covered tunnel (TLS with http/1.1 ALPN, and in the clear) works."""
    gonogo = Gonogo(tmp_path, policy, resolve=NAMES).start()
    try:
        status, _, sock = connect(gonogo.port, f"facebook.test:{origin.https_port}")
        assert status == 200
        with tls(sock, "facebook.test", gonogo.ca, alpn=["http/1.1"]) as inner:
            answer, _ = exchange(inner, "GET /web HTTP/1.1\r\nHost: facebook.test\r\nConnection: close\r\n\r\n")
        assert answer == 200
        status, _, sock = connect(gonogo.port, f"facebook.test:{origin.http_port}")
        assert status == 200
        with sock:
            answer, _ = exchange(sock, "GET /clear HTTP/1.1\r\nHost: facebook.test\r\nConnection: close\r\n\r\n")
        assert answer == 200
    finally:
        assert gonogo.stop() == 0


def spend(state: str, policy_path: Path, person: str) -> None:
    """Spend the one minute of `person`'s daily budget (an earlier minute of today)."""
    policy = load_policy(policy_path)
    now = dt.datetime.now(dt.UTC)
    period, resets_at = period_of(policy.budgets["social time-box"], now, policy)
    if resets_at - now < dt.timedelta(minutes=3):
        pytest.skip("the budget day ends in a moment; the spent minute would not count")

    async def charge() -> None:
        ledger = SqliteLedger(Path(state.removeprefix("sqlite:")))
        assert (await ledger.charge(person, "social time-box", period, int(now.timestamp() // 60) - 1, 1,
                                    3600)).counted
        await ledger.close()

    asyncio.run(charge())


def test_no_ca_mode_decides_on_the_sni(tmp_path: Path, policy: Path, origin: Origin, listener: TcpListener) -> None:
    gonogo = Gonogo(tmp_path, policy, "--tls", "passthrough-only", resolve=NAMES)
    (tmp_path / "state").mkdir()
    spend(gonogo.state, policy, "ip:127.0.0.1")
    gonogo.start()
    origin_der = ssl.PEM_cert_to_DER_cert(origin.cert.read_text())
    try:
        # held before: a CONNECT to the spent host by name is refused
        status, _, sock = connect(gonogo.port, f"facebook.test:{origin.https_port}")
        sock.close()
        assert status == 403
        # the attack: an address with the covered SNI; not passed through (the client meets the proxy's
        # certificate, not the origin's), so nothing reaches the origin
        status, _, sock = connect(gonogo.port, f"127.0.0.1:{origin.https_port}")
        assert status == 200
        with tls(sock, "facebook.test") as inner:
            assert inner.getpeercert(binary_form=True) != origin_der
        # an uncovered SNI on the same address passes through untouched
        status, _, sock = connect(gonogo.port, f"127.0.0.1:{origin.https_port}")
        with tls(sock, "bank.test") as inner:
            assert inner.getpeercert(binary_form=True) == origin_der
        # TLS to a covered (allowed) host that offers no web protocol is not passed through either
        status, _, sock = connect(gonogo.port, f"127.0.0.1:{listener.port}")
        assert status == 200
        with tls(sock, "chat.test", alpn=["mqtt"]) as mqtt:
            mqtt.sendall(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c")
            assert closed_without_reply(mqtt)
        assert listener.accepted == 0
        # offering HTTP, it is (the listener echoes the ClientHello back, which is no TLS server's answer)
        status, _, sock = connect(gonogo.port, f"127.0.0.1:{listener.port}")
        with pytest.raises(ssl.SSLError), tls(sock, "chat.test", alpn=["h2", "http/1.1"]):
            pass
        assert listener.accepted == 1
    finally:
        assert gonogo.stop() == 0
