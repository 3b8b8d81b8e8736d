"""End to end, one request is decided on everything it says: every name it gives for its site (CONNECT target,
SNI, Host, absolute-form target, HTTP/2 :authority), the path and method as the origin will read them, and the
person its tunnel was opened for. Raw sockets: no client library sends these requests on its own."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.proxy import Gonogo, Origin
from tests.support.raw import connect, exchange, tls

NAMES = ("video.test", "facebook.test", "bank.test", "tiktok.test", "news.test")
POLICY = """\
version: 1
identity:
  trusted_header: X-Gonogo-User
  trusted_proxies: [127.0.0.1/32]
categories:
  video: {domains: [video.test]}
  social: {domains: [facebook.test]}
  news: {domains: [news.test]}
groups:
  watchers: {users: [alice]}
rules:
  - name: alice watches
    groups: [watchers]
    categories: [video]
    action: allow
  - name: no video
    categories: [video]
    action: block
  - name: no direct messages
    categories: [social]
    paths: ["/direct/*"]
    action: block
  - name: read only
    categories: [social]
    methods: [POST, PUT, PATCH, DELETE]
    action: block
  - name: news is not deleted
    categories: [news]
    methods: [DELETE]
    action: block
  - name: social time-box
    categories: [social]
    action: timebox
    quota: {minutes: 600, per: day}
default: allow
"""


@pytest.fixture(scope="module")
def gonogo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gonogo]:
    work = tmp_path_factory.mktemp("gonogo")
    (work / "policy.yaml").write_text(POLICY)
    proxy = Gonogo(work, work / "policy.yaml", resolve=NAMES).start()
    yield proxy
    assert proxy.stop() == 0


def tunnel(gonogo: Gonogo, target: str, sni: str | None, headers: str = "", *also: Path) -> socket.socket:
    """A tunnel through the proxy: CONNECT `target`, TLS with `sni`, the proxy's CA (and `also`) trusted."""
    status, head, raw = connect(gonogo.port, target, headers)
    assert status == 200, head
    return tls(raw, sni, gonogo.ca, *also)


def get(sock: socket.socket, path: str, host: str, extra: str = "", method: str = "GET") -> int:
    with sock:
        return exchange(sock, f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n")[0]


def plain(gonogo: Gonogo, request: str) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", gonogo.port), timeout=10) as sock:
        return exchange(sock, request)


def reached(origin: Origin, marker: str) -> bool:
    return any(marker in s.path for s in origin.seen)


def test_sni_counts_after_decryption(gonogo: Gonogo, origin: Origin) -> None:
    """curl --connect-to video.test:443:bank.test:443 -H 'Host: bank.test' https://video.test/"""
    p = origin.https_port
    assert get(tunnel(gonogo, f"bank.test:{p}", "video.test"), "/connect-to", "bank.test") == 403
    assert get(tunnel(gonogo, f"video.test:{p}", "bank.test"), "/connect-to", "bank.test") == 403
    passed = tunnel(gonogo, f"bank.test:{p}", "bank.test", "", origin.cert)  # uncovered: passed through
    assert get(passed, "/connect-to-fine", "bank.test") == 200
    assert not reached(origin, "/connect-to?") and not [s for s in origin.seen if s.path == "/connect-to"]


def test_two_or_unreadable_host_headers_are_refused(gonogo: Gonogo, origin: Origin) -> None:
    p, hp = origin.https_port, origin.http_port
    status, body = plain(gonogo, f"GET http://bank.test:{hp}/two HTTP/1.1\r\nHost: bank.test:{hp}\r\n"
                                 "Host: video.test\r\nConnection: close\r\n\r\n")
    assert status == 400 and b"twice" in body
    inside = tunnel(gonogo, f"facebook.test:{p}", "facebook.test")
    assert get(inside, "/two", "facebook.test", "Host: video.test\r\n") == 400
    status, body = plain(gonogo, f"GET http://bank.test:{hp}/bad HTTP/1.1\r\nHost: video.test:abc\r\n"
                                 "Connection: close\r\n\r\n")
    assert status == 400
    for bad in ("video.test:abc", "video.test, tiktok.test", "bank.test/x"):
        assert get(tunnel(gonogo, f"facebook.test:{p}", "facebook.test"), "/bad", bad) == 400, bad
    assert not reached(origin, "/two") and not reached(origin, "/bad")


def test_absolute_form_counts(gonogo: Gonogo, origin: Origin) -> None:
    p, hp = origin.https_port, origin.http_port
    inside = tunnel(gonogo, f"facebook.test:{p}", "facebook.test")  # an allowed (time-boxed) tunnel
    assert get(inside, "https://video.test/absolute", "facebook.test") == 403
    status, _ = plain(gonogo, f"GET http://video.test:{hp}/absolute HTTP/1.1\r\nHost: bank.test\r\n"
                              "Connection: close\r\n\r\n")
    assert status == 403
    assert not reached(origin, "/absolute")


def curl_h2(gonogo: Gonogo, url: str, *extra: str) -> tuple[str, str]:
    """(HTTP version, status) of one request with curl over HTTP/2 through the proxy."""
    done = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "--http2",
                           "--noproxy", "", "-x", gonogo.url, "--cacert", str(gonogo.ca), *extra, url],
                          capture_output=True, text=True, timeout=30, check=False)
    version, _, status = done.stdout.partition(" ")
    return version, status


def test_h2_authority_counts(gonogo: Gonogo, origin: Origin) -> None:
    """curl turns `-H 'Host: video.test'` into the HTTP/2 :authority of a request in a facebook.test tunnel."""
    p = origin.https_port
    assert curl_h2(gonogo, f"https://facebook.test:{p}/authority", "-H", "Host: video.test") == ("2", "403")
    assert curl_h2(gonogo, f"https://facebook.test:{p}/authority-fine") == ("2", "200")
    assert not [s for s in origin.seen if s.path == "/authority"] and reached(origin, "/authority-fine")


def test_ip_literal_connect_without_sni_is_decrypted_and_decided(gonogo: Gonogo, origin: Origin) -> None:
    p = origin.https_port
    # trusting only the gonogo CA: the handshake succeeds only if the proxy intercepts
    assert get(tunnel(gonogo, f"127.0.0.1:{p}", None), "/ip-literal", "video.test") == 403
    assert get(tunnel(gonogo, f"127.0.0.1:{p}", None), "/ip-literal-fine", "bank.test") == 200
    assert not [s for s in origin.seen if s.path == "/ip-literal"] and reached(origin, "/ip-literal-fine")


def test_the_tunnel_owner_is_fixed_at_connect(gonogo: Gonogo, origin: Origin) -> None:
    """From the trusted proxy: CONNECT as bob, inner request as alice, is decided as bob."""
    p = origin.https_port
    as_bob = tunnel(gonogo, f"video.test:{p}", "video.test", "X-Gonogo-User: bob\r\n")
    assert get(as_bob, "/owner-alice", "video.test", "X-Gonogo-User: alice\r\n") == 403
    nobody = tunnel(gonogo, f"video.test:{p}", "video.test")
    assert get(nobody, "/owner-alice", "video.test", "X-Gonogo-User: alice\r\n") == 403
    as_alice = tunnel(gonogo, f"video.test:{p}", "video.test", "X-Gonogo-User: alice\r\n")
    assert get(as_alice, "/owner-bob", "video.test", "X-Gonogo-User: bob\r\n") == 200
    seen = [s for s in origin.seen if s.path == "/owner-bob"]
    assert seen and "x-gonogo-user" not in seen[0].headers  # stripped, as before
    assert not reached(origin, "/owner-alice")


@pytest.mark.parametrize("path", ["/direct/inbox", "/%64irect/inbox", "//direct/inbox", "/./direct/inbox",
                                  "/x/../direct/inbox", "/%2e/direct/inbox", "/x/%2E%2E/direct/inbox",
                                  "/direct%2finbox", "/direct//inbox?x=1", "/DIRECT/../direct/inbox"])
def test_paths_are_matched_as_the_origin_reads_them(gonogo: Gonogo, origin: Origin, path: str) -> None:
    p, hp = origin.https_port, origin.http_port
    assert get(tunnel(gonogo, f"facebook.test:{p}", "facebook.test"), path, "facebook.test") == 403
    status, _ = plain(gonogo, f"GET http://facebook.test:{hp}{path} HTTP/1.1\r\nHost: facebook.test:{hp}\r\n"
                              "Connection: close\r\n\r\n")
    assert status == 403
    assert not [s for s in origin.seen if "inbox" in s.path]


def test_method_overrides_are_decided_too(gonogo: Gonogo, origin: Origin) -> None:
    p = origin.https_port
    for extra, path in (("X-HTTP-Method-Override: POST\r\n", "/feed-a"), ("X-HTTP-Method: DELETE\r\n", "/feed-b"),
                        ("X-Method-Override: put\r\n", "/feed-c"), ("", "/feed-d?_method=PATCH"),
                        ("X-HTTP-Method-Override: GET, POST\r\n", "/feed-e")):
        assert get(tunnel(gonogo, f"facebook.test:{p}", "facebook.test"), path, "facebook.test", extra) == 403, extra
    form = "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 14\r\n"
    for body, expected in (("_method=DELETE", 403), ("_method=UPDATE", 200)):
        with tunnel(gonogo, f"news.test:{p}", "news.test") as sock:
            status, _ = exchange(sock, f"POST /form-{expected} HTTP/1.1\r\nHost: news.test\r\n{form}"
                                       f"Connection: close\r\n\r\n{body}")
        assert status == expected, body
    fine = "X-HTTP-Method-Override: GET\r\n"
    assert get(tunnel(gonogo, f"facebook.test:{p}", "facebook.test"), "/feed-ok", "facebook.test", fine) == 200
    assert not [s for s in origin.seen if s.path.startswith("/feed-") and s.path != "/feed-ok"]
    assert not reached(origin, "/form-403") and reached(origin, "/form-200")


def test_host_spellings_still_meet_their_rule(gonogo: Gonogo, origin: Origin) -> None:
    """Attacks that held before stay held: case, a trailing dot, a port in Host, all in one request."""
    p, hp = origin.https_port, origin.http_port
    assert get(tunnel(gonogo, f"VIDEO.Test.:{p}", "Video.TEST."), "/spelling", "video.test.:443") == 403
    status, _ = plain(gonogo, f"GET http://Video.TEST.:{hp}/spelling HTTP/1.1\r\nHost: VIDEO.test:{hp}\r\n"
                              "Connection: close\r\n\r\n")
    assert status == 403
    assert not reached(origin, "/spelling")
