"""End to end, the other ways to run the proxy: as a mitmdump script, without a CA on the clients,
behind a trusted identity proxy, and with WebSocket traffic."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from tests.support.proxy import Gonogo, Origin, WebSocketClient, trust, tunnel_certificate

POLICY = """\
version: 1
identity:
  trusted_header: X-Gonogo-User
  trusted_proxies: [127.0.0.1/32]
categories:
  social: {domains: [facebook.test]}
  pro: {domains: [linkedin.test]}
groups:
  social-team: {users: [anna]}
rules:
  - name: social team runs our channels
    groups: [social-team]
    categories: [social, pro]
    action: allow
  - name: social time-box
    categories: [social]
    action: timebox
    quota: {minutes: 30, per: day}
  - name: no linkedin
    categories: [pro]
    action: block
"""



@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


def test_loads_as_a_mitmdump_script(tmp_path: Path, policy: Path, origin: Origin) -> None:
    gonogo = Gonogo(tmp_path, policy, mitmdump=True).start()
    try:
        with gonogo.client(also_trust=(origin.cert,)) as c:
            blocked = c.get(f"https://linkedin.test:{origin.https_port}/")
            fine = c.get(f"https://facebook.test:{origin.https_port}/")
        assert blocked.status_code == 403
        assert fine.status_code == 200 and fine.headers["x-gonogo-minutes-left"] == "29"
    finally:
        assert gonogo.stop() == 0


def test_no_ca_mode_decrypts_nothing_and_refuses_blocked_hosts(tmp_path: Path, policy: Path, origin: Origin) -> None:
    gonogo = Gonogo(tmp_path, policy, "--tls", "passthrough-only").start()
    origin_der = ssl.PEM_cert_to_DER_cert(origin.cert.read_text())
    try:
        # a time-boxed host is counted per connection but passed through: the origin's own certificate
        assert tunnel_certificate(gonogo.port, "facebook.test", origin.https_port, "facebook.test") == origin_der
        with httpx.Client(proxy=gonogo.url, verify=trust(origin.cert), timeout=20) as c:
            assert c.get(f"https://facebook.test:{origin.https_port}/").status_code == 200
            with pytest.raises(httpx.ProxyError, match="403"):
                c.get(f"https://linkedin.test:{origin.https_port}/")
        assert not [s for s in origin.seen if s.host == "linkedin.test"]
    finally:
        assert gonogo.stop() == 0


def test_trusted_header_names_the_user_and_is_not_forwarded(tmp_path: Path, policy: Path, origin: Origin) -> None:
    gonogo = Gonogo(tmp_path, policy).start()
    try:
        with gonogo.client(also_trust=(origin.cert,)) as c:
            as_anna = c.get(f"http://linkedin.test:{origin.http_port}/anna", headers={"X-Gonogo-User": "anna"})
            anonymous = c.get(f"http://linkedin.test:{origin.http_port}/nobody")
        assert as_anna.status_code == 200
        assert anonymous.status_code == 403
        seen = [s for s in origin.seen if s.path == "/anna"]
        assert seen and "x-gonogo-user" not in seen[0].headers
    finally:
        assert gonogo.stop() == 0


def test_websocket_messages_are_decided_under_the_policy_in_force(tmp_path: Path, policy: Path,
                                                                  origin: Origin) -> None:
    gonogo = Gonogo(tmp_path, policy, "--set", "gonogo_reload_ms=100").start()
    try:
        ws = WebSocketClient(gonogo.port, "facebook.test", origin.https_port, gonogo.ca)
        ws.send("hello")
        assert ws.receive() == "echo hello"
        policy.write_text(POLICY.replace("action: timebox\n    quota: {minutes: 30, per: day}", "action: block"))
        gonogo.wait_for("policy reloaded")
        ws.send("still there?")
        assert ws.receive() is None  # the proxy closed the socket: the message counts and is refused
        assert origin.messages == ["hello"]
        ws.close()
    finally:
        assert gonogo.stop() == 0
