"""End to end (a real `gonogo run`, raw sockets and httpx): the integrity classes of issue #10 that this
module covers. A reload reaches open connections; every page the proxy answers refuses framing and its
continue link needs the person's own click; no download, policy file or PAC request stalls the gateway;
bad values are one clear line; the log holds no URL paths, queries or client addresses by default."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.proxy import GONOGO, Gonogo, Origin, trust

POLICY = """\
version: 1
timezone: UTC
categories:
  social: {domains: [facebook.test]}
  news: {domains: [news.test]}
rules:
  - {name: no social, categories: [social], action: block}
  - {name: news needs a reason, categories: [news], action: warn, continue_minutes: 15}
default: allow
"""
NAV = {"sec-fetch-dest": "document", "accept": "text/html"}
SECURITY = {"x-frame-options": "DENY", "x-content-type-options": "nosniff"}


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gonogo]:
    work = tmp_path_factory.mktemp("integrity")
    policy = work / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(work, policy, "--set", "gonogo_reload_ms=100").start()
    yield gonogo
    assert gonogo.stop() == 0, gonogo.output()


def framing_refused(response: httpx.Response) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (response.status_code, name, dict(response.headers))
    assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), dict(response.headers)


def connect(proxy: Gonogo, host: str, port: int) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", proxy.port), timeout=20)
    raw.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = raw.recv(4096)
        assert chunk, reply
        reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply
    return raw


def get(sock: socket.socket, host: str, path: str) -> bytes:
    """One keep-alive GET on `sock`; the response's body (the test origin always sends a content-length)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return body


# -- a policy change reaches open connections ---------------------------------------------------------

@pytest.mark.parametrize("tls_mode", ["intercept", "passthrough-only"])
def test_a_reload_closes_passthrough_connections_it_decides_differently(tmp_path: Path, origin: Origin,
                                                                        tls_mode: str) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(tmp_path, policy, "--set", "gonogo_reload_ms=100", "--tls", tls_mode).start()
    try:
        tls = trust(origin.cert)
        bank = tls.wrap_socket(connect(gonogo, "bank.test", origin.https_port), server_hostname="bank.test")
        other = tls.wrap_socket(connect(gonogo, "example.test", origin.https_port), server_hostname="example.test")
        # passed through undecrypted (the origin's own certificate was accepted) and kept alive
        assert get(bank, "bank.test", "/one") == b"origin says hello to bank.test/one\n"
        assert get(other, "example.test", "/one") == b"origin says hello to example.test/one\n"
        policy.write_text(POLICY.replace("domains: [news.test]}", "domains: [news.test]}\n  bank: "
                                         "{domains: [bank.test]}").replace(
            "default: allow", "  - {name: no bank, categories: [bank], action: block}\ndefault: allow"))
        gonogo.wait_for("policy reloaded")
        gonogo.wait_for(r"closed 1 open connection")
        with _closed():
            assert get(bank, "bank.test", "/two") == b""
        # a connection the new policy decides the same way stays open
        assert get(other, "example.test", "/two") == b"origin says hello to example.test/two\n"
        bank.close()
        other.close()
        assert "/two" not in origin.paths("bank.test")
        # a new connection to the now blocked host is refused (intercepted: a 403 page; no CA: at CONNECT)
        with gonogo.client(also_trust=(origin.cert,)) as c:
            if tls_mode == "intercept":
                assert c.get(f"https://bank.test:{origin.https_port}/three").status_code == 403
            else:
                with pytest.raises(httpx.ProxyError):
                    c.get(f"https://bank.test:{origin.https_port}/three")
    finally:
        assert gonogo.stop() == 0, gonogo.output()


class _closed:
    """The connection ends (EOF, a reset or a TLS error all count) instead of carrying the request."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _tb: object) -> bool:
        return kind is not None and issubclass(kind, (ssl.SSLError, ConnectionError))


# -- pages that cannot be used against the person ------------------------------------------------------

def test_every_page_the_proxy_answers_refuses_framing(proxy: Gonogo, origin: Origin) -> None:
    with proxy.client(also_trust=(origin.cert,)) as c:
        pages = {
            "block page": c.get(f"https://facebook.test:{origin.https_port}/", headers=NAV),
            "short 403": c.get(f"https://facebook.test:{origin.https_port}/api", headers={"sec-fetch-dest": "empty"}),
            "warn page": c.get(f"http://news.test:{origin.http_port}/story", headers=NAV),
            "status page": c.get("http://gonogo.status/", headers=NAV),
            "bad continue link": c.get(f"http://news.test:{origin.http_port}/__gonogo__/continue?rule=x&sig=y"),
            "PAC via the status host": c.get("http://gonogo.status/proxy.pac"),
        }
        link = re.search(r'href="(/__gonogo__/continue\?[^"]+)"', pages["warn page"].text)
        assert link, pages["warn page"].text
        href = link.group(1).replace("&amp;", "&")
        continue_url = f"http://news.test:{origin.http_port}{href}"
        # the warned site cannot follow the link for the person: not in a frame, not by script, not cross-site
        for headers in ({"sec-fetch-dest": "iframe", "sec-fetch-mode": "navigate", "sec-fetch-site": "same-origin"},
                        {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate", "sec-fetch-site": "cross-site",
                         "sec-fetch-user": "?1"},
                        {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate", "sec-fetch-site": "same-origin"},
                        {"sec-fetch-dest": "empty", "sec-fetch-mode": "cors", "sec-fetch-site": "same-origin"},
                        {"referer": "http://elsewhere.test/page.html"}):  # plain HTTP: no Sec-Fetch-* from browsers
            refused = c.get(continue_url, headers=headers)
            assert refused.status_code == 403 and "clicking the link" in refused.text, headers
            framing_refused(refused)
        nl = c.get(continue_url, headers={"sec-fetch-dest": "iframe", "accept-language": "nl"})
        assert nl.status_code == 403 and "waarschuwingspagina" in nl.text
        # the person's own click does (over plain HTTP a browser sends the warned page as Referer)
        assert c.get(continue_url, headers={"referer": f"http://news.test:{origin.http_port}/story"}).status_code == 302
        clicked = c.get(continue_url, headers={"sec-fetch-dest": "document", "sec-fetch-mode": "navigate",
                                               "sec-fetch-site": "same-origin", "sec-fetch-user": "?1"})
        pages["continue redirect"] = clicked
    with httpx.Client(timeout=20) as direct:
        pages["PAC"] = direct.get(f"{proxy.url}/proxy.pac")
    assert pages["block page"].status_code == 403 and "<html" in pages["block page"].text.lower()
    assert pages["short 403"].status_code == 403 and "<html" not in pages["short 403"].text.lower()
    assert pages["warn page"].status_code == 403
    assert pages["status page"].status_code == 200
    assert pages["bad continue link"].status_code == 403
    assert pages["continue redirect"].status_code == 302 and pages["continue redirect"].headers["location"] == "/story"
    assert pages["PAC"].status_code == 200 and "FindProxyForURL" in pages["PAC"].text
    for name, response in pages.items():
        assert response.headers.get("x-gonogo") == "1" or "PAC" in name, name
        framing_refused(response)


# -- no single request, file or client can stall the gateway -------------------------------------------

class SlowOrigin:
    """An origin that sends the first half of a large body, then waits until the test says the client has
    received bytes, then sends the rest: a proxy that buffers whole bodies never lets the client see any."""

    SIZE = 8 * 1024 * 1024

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.client_has_bytes = threading.Event()
        self.finished = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: %d\r\n\r\n" % self.SIZE)
            half = self.SIZE // 2
            conn.sendall(b"a" * half)
            if self.client_has_bytes.wait(timeout=60):
                conn.sendall(b"b" * (self.SIZE - half))
                self.finished.set()


@pytest.mark.parametrize("how", ["gonogo run", "mitmdump -s"])
def test_a_large_download_streams_through(proxy: Gonogo, tmp_path: Path, how: str) -> None:
    if how == "mitmdump -s":  # the addon sets the default itself
        (tmp_path / "policy.yaml").write_text(POLICY)
        proxy = Gonogo(tmp_path, tmp_path / "policy.yaml", mitmdump=True).start()
    try:
        stream_through(proxy)
    finally:
        if how == "mitmdump -s":
            assert proxy.stop() == 0, proxy.output()


def stream_through(proxy: Gonogo) -> None:
    origin = SlowOrigin()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as sock:
        sock.sendall(f"GET http://example.test:{origin.port}/big.iso HTTP/1.1\r\nHost: example.test:{origin.port}"
                     f"\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) == 0:
            chunk = sock.recv(65536)  # a buffering proxy sends nothing: the recv times out and the test fails
            assert chunk, data
            data += chunk
        assert not origin.finished.is_set()  # the first bytes arrived while the origin still held the rest
        origin.client_has_bytes.set()
        body = data.partition(b"\r\n\r\n")[2]
        while len(body) < SlowOrigin.SIZE:
            chunk = sock.recv(1 << 20)
            assert chunk
            body += chunk
    assert data.startswith(b"HTTP/1.1 200") and body == b"a" * (SlowOrigin.SIZE // 2) + b"b" * (SlowOrigin.SIZE // 2)
    origin.server.close()


LAUGHS = "\n".join(["version: 1", "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] +
                   [f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, 10)]) + "\n"


def test_a_hostile_policy_file_does_not_stall_the_gateway(tmp_path: Path, origin: Origin) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(tmp_path, policy, "--set", "gonogo_reload_ms=100").start()
    try:
        policy.write_text(LAUGHS)  # a billion laughs
        gonogo.wait_for("policy change rejected")
        line = gonogo.wait_for("aliases expand")
        assert re.search(rf"{re.escape(str(policy))}:\d+:\d+: error: YAML: aliases expand to more than", line)
        with gonogo.client(also_trust=(origin.cert,)) as c:  # the last good policy still decides
            assert c.get(f"https://facebook.test:{origin.https_port}/").status_code == 403
            assert c.get(f"https://example.test:{origin.https_port}/").status_code == 200
        policy.unlink()
        policy.write_text(POLICY.replace("x", "x"))
    finally:
        assert gonogo.stop() == 0, gonogo.output()
    assert "Traceback" not in gonogo.output()
    for name, make in (("fifo", lambda p: __import__("os").mkfifo(p)), ("laughs", lambda p: p.write_text(LAUGHS))):
        bad = tmp_path / f"{name}.yaml"
        make(bad)
        done = subprocess.run([str(GONOGO), "check", str(bad)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.startswith(f"{bad}:"), done.stderr


def test_the_pac_file_validates_host_and_is_built_once(proxy: Gonogo) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=20) as sock:
        sock.sendall(f"GET /proxy.pac HTTP/1.1\r\nHost: evil\";alert(1);//:{proxy.port}\r\n"
                     "Connection: close\r\n\r\n".encode())
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400"), reply
    bodies = set()
    with httpx.Client(timeout=20) as direct:
        for i in range(40):  # many Host values: each answered, the cache stays bounded
            r = direct.get(f"{proxy.url}/proxy.pac", headers={"host": f"gw{i}.example:{proxy.port}"})
            assert r.status_code == 200 and f'"PROXY gw{i}.example:{proxy.port}"' in r.text
            bodies.add(r.text.replace(f"gw{i}.example", "GW"))
    assert len(bodies) == 1  # one policy, one file: only the address differs
    assert "Traceback" not in proxy.output()


# -- errors are one clear line ---------------------------------------------------------------------------

@pytest.mark.parametrize(("state", "message"), [
    ("sqlite:{dir}/junk.db",
     "gonogo: cannot start: --state sqlite:{dir}/junk.db: {dir}/junk.db is not a SQLite database"),
    ("bogus:x", "gonogo: cannot start: --state bogus:x: must be sqlite:PATH or redis://HOST:PORT/DB (rediss://, valkey://)"),
    ("redis://127.0.0.1:port/0", "gonogo: cannot start: --state redis://127.0.0.1:port/0: Port could not be cast"),
])
def test_a_bad_state_is_one_line(tmp_path: Path, state: str, message: str) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is no database, just text" * 10)
    (tmp_path / "policy.yaml").write_text(POLICY)
    state, message = state.format(dir=tmp_path), message.format(dir=tmp_path)
    gonogo = Gonogo(tmp_path, tmp_path / "policy.yaml", state=state)
    done = subprocess.run(gonogo.command(), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr


@pytest.mark.parametrize("args", [
    ["quota", "grant", "--user", "u", "--rule", "no social", "--minutes", "99999999999999999999999"],
    ["quota", "grant", "--user", "u", "--rule", "no social", "--minutes", "-100001"],
    ["run", "--listen-port", "99999"],
    ["run", "--metrics-port", "-5"],
])
def test_out_of_range_numbers_are_one_line(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    done = subprocess.run([str(GONOGO), *args, "--policy", str(tmp_path / "policy.yaml"),
                           "--state", f"sqlite:{tmp_path / 'g.db'}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert re.search(r"error: argument --[a-z-]+: -?\d+ is not between -?\d+ and \d+\n$", done.stderr), done.stderr


def test_an_audit_since_beyond_the_calendar_means_everything(tmp_path: Path) -> None:
    done = subprocess.run([str(GONOGO), "audit", "--dir", str(tmp_path), "--since", "99999999999999999d"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "since 0001-01-01" in done.stdout


# -- the log keeps the promises the notice makes -----------------------------------------------------------

@pytest.mark.parametrize("extra", [(), ("--quiet",), ("--log-requests",), ("mitmdump",),
                                   ("mitmdump", "--set", "gonogo_log_requests=true")])
def test_the_log_holds_no_urls_or_client_addresses_by_default(tmp_path: Path, origin: Origin,
                                                               extra: tuple[str, ...]) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    mitmdump = extra[:1] == ("mitmdump",)
    extra = extra[1:] if mitmdump else extra
    gonogo = Gonogo(tmp_path, tmp_path / "policy.yaml", *extra, mitmdump=mitmdump).start()
    ports = []
    try:
        with socket.create_connection(("127.0.0.1", gonogo.port), timeout=20) as sock:
            ports.append(sock.getsockname()[1])
            sock.sendall(f"GET http://example.test:{origin.http_port}/private-diary-7f3a?q=who-i-am HTTP/1.1\r\n"
                         f"Host: example.test:{origin.http_port}\r\n\r\n".encode())
            assert get_reply(sock).startswith(b"HTTP/1.1 200")
        with gonogo.client(also_trust=(origin.cert,)) as c:  # intercepted HTTPS, blocked
            assert c.get(f"https://facebook.test:{origin.https_port}/secret-group-9c1?member=me").status_code == 403
        with socket.create_connection(("127.0.0.1", gonogo.port), timeout=20) as sock:  # one more, and closed
            ports.append(sock.getsockname()[1])
            sock.sendall(f"GET http://news.test:{origin.http_port}/x HTTP/1.1\r\nHost: news.test\r\n"
                         f"Connection: close\r\n\r\n".encode())
            get_reply(sock)
    finally:
        assert gonogo.stop() == 0, gonogo.output()
    log = gonogo.output()
    secrets = ["private-diary-7f3a", "who-i-am", "secret-group-9c1", "member=me"]
    addresses = [f"127.0.0.1:{port}" for port in ports]
    if "--log-requests" in extra or "gonogo_log_requests=true" in extra:
        assert all(s in log for s in secrets[:2]), log
        assert any(a in log for a in addresses), log
    else:
        assert not [s for s in secrets if s in log], log
        assert not [a for a in addresses if a in log], log
        assert "client connect" not in log and "client disconnect" not in log


def get_reply(sock: socket.socket) -> bytes:
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = sock.recv(65536)
        if not chunk:
            break
        reply += chunk
    return reply
