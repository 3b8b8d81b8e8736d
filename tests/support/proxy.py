"""Real processes for end-to-end tests: an upstream HTTP/HTTPS origin on 127.0.0.1 that records what
reaches it, and a `gonogo run` process with a fresh CA and state, reached with httpx through the proxy.

Test host names end in `.test`; the proxy maps them to 127.0.0.1 with `--resolve`, where it resolves
names (the CONNECT target), so the policy still sees the names.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import ipaddress
import os
import queue
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import wsproto
import wsproto.events as wsevents
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support import processes

GONOGO = Path(sys.executable).parent / "gonogo"
ADDON = Path(__file__).resolve().parents[2] / "proxy_addons" / "addon.py"
TEST_NAMES = ("facebook.test", "www.facebook.test", "news.test", "bank.test", "linkedin.test", "tiktok.test",
              "example.test", "status.test")


@dataclass
class Seen:
    method: str
    host: str
    path: str
    headers: dict[str, str]


def make_cert(directory: Path, names: tuple[str, ...] = TEST_NAMES) -> tuple[Path, Path]:
    """A self-signed certificate for the upstream: what the client must see on passed-through hosts."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gonogo test origin")])
    now = dt.datetime.now(dt.UTC)
    sans = [x509.DNSName(n) for n in names] + [x509.DNSName("*." + n) for n in names]
    sans.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "origin-cert.pem", directory / "origin-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without NODELAY, Nagle + delayed ACK add 40 ms each
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _answer(self) -> None:
        if self.headers.get("upgrade", "").lower() == "websocket":
            self._websocket_echo()
            return
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        server: Origin = self.server.origin  # type: ignore[attr-defined]
        host = (self.headers.get("host") or "").split(":")[0]
        server.seen.append(Seen(self.command, host, self.path, {k.lower(): v for k, v in self.headers.items()}))
        body = f"origin says hello to {host}{self.path}\n".encode()
        ctype = "text/plain"
        path = self.path.split("?")[0]
        if path in server.pages:  # a test's own page (HTML, scripts)
            ctype, body = server.pages[path]
        elif path.startswith("/bytes/"):  # /bytes/N: a body of N bytes (data volume tests)
            body = b"x" * int(path.removeprefix("/bytes/"))
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def _websocket_echo(self) -> None:
        """Accept the upgrade and echo text messages until the peer goes away."""
        server: Origin = self.server.origin  # type: ignore[attr-defined]
        server.seen.append(Seen("WEBSOCKET", (self.headers.get("host") or "").split(":")[0], self.path, {}))
        ws = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        raw = f"{self.requestline}\r\n{self.headers}".encode().replace(b"\n", b"\r\n").replace(b"\r\r", b"\r")
        ws.receive_data(raw)
        for event in ws.events():
            if isinstance(event, wsevents.Request):
                self.wfile.write(ws.send(wsevents.AcceptConnection()))
        self.wfile.flush()
        push = self.path.startswith("/push")  # /push: the server also sends a message every 50 ms
        if push:
            self.connection.settimeout(0.05)
        while True:
            try:
                data = self.connection.recv(65536)
            except TimeoutError:
                server.pushed += 1
                try:
                    self.wfile.write(ws.send(wsevents.Message(data=f"push {server.pushed}")))
                    self.wfile.flush()
                except OSError:
                    return
                continue
            except OSError:
                return
            if not data:
                return
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, wsevents.TextMessage):
                    server.messages.append(event.data)
                    self.wfile.write(ws.send(wsevents.Message(data=f"echo {event.data}")))
                elif isinstance(event, wsevents.CloseConnection):
                    self.wfile.write(ws.send(event.response()))
                    return
            self.wfile.flush()

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Origin:
    """One threaded HTTP server and one HTTPS server on 127.0.0.1, sharing a record of requests."""

    cert: Path
    key: Path
    seen: list[Seen] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path -> (content type, body)
    pushed: int = 0  # messages the /push WebSocket sent
    http_port: int = 0
    https_port: int = 0
    _servers: list[http.server.ThreadingHTTPServer] = field(default_factory=list)

    def start(self) -> Origin:
        for tls in (False, True):
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            server.daemon_threads = True
            server.origin = self  # type: ignore[attr-defined]
            if tls:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.cert, self.key)
                server.socket = ctx.wrap_socket(server.socket, server_side=True)
                self.https_port = server.server_address[1]
            else:
                self.http_port = server.server_address[1]
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self._servers.append(server)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def paths(self, host: str | None = None) -> list[str]:
        return [s.path for s in self.seen if host is None or s.host == host]


class Gonogo:
    """A `gonogo run` process; its output is collected line by line for the test to wait on."""

    def __init__(self, workdir: Path, policy: Path, *extra: str, state: str | None = None,
                 resolve: tuple[str, ...] = TEST_NAMES, env: dict[str, str] | None = None,
                 mitmdump: bool = False, verify_upstream: bool = False,
                 allow_upstream: tuple[str, ...] = ("127.0.0.0/8",)) -> None:
        """`verify_upstream`: check origins' certificates as in production (off by default: the test origin's
        certificate is self-signed). `allow_upstream`: the test origins live on loopback, which gonogo refuses
        by default."""
        self.mitmdump = mitmdump
        self.verify_upstream = verify_upstream
        self.allow_upstream = allow_upstream
        self.workdir = workdir
        self.policy = policy
        self.confdir = workdir / "mitmproxy"
        self.state = state or f"sqlite:{workdir / 'state' / 'gonogo.db'}"
        self.extra = extra
        self.resolve = resolve
        self.env = env
        self.lines: list[str] = []
        self._matched: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.metrics_port = 0

    @property
    def ca(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.mitmdump:
            # the same addon loaded the mitmproxy way, every option through --set
            cmd = [str(Path(sys.executable).parent / "mitmdump"), "-s", str(ADDON), "--listen-host", "127.0.0.1",
                   "--listen-port", "0", "--set", f"gonogo_policy={self.policy}", "--set", f"gonogo_state={self.state}",
                   "--set", "gonogo_metrics_port=0", "--set", f"confdir={self.confdir}", *self._insecure()]
            for name in self.resolve:
                cmd += ["--set", f"gonogo_resolve={name}=127.0.0.1"]
            for net in self.allow_upstream:
                cmd += ["--set", f"gonogo_allow_upstream={net}"]
            return cmd + list(self.extra)
        cmd = [*os.environ.get("GONOGO_CMD", str(GONOGO)).split(), "run", "--policy", str(self.policy),
               "--listen-port", "0", "--metrics-port", "0", "--state", self.state,
               "--set", f"confdir={self.confdir}", *self._insecure()]
        for name in self.resolve:
            cmd += ["--resolve", f"{name}=127.0.0.1"]
        for net in self.allow_upstream:
            cmd += ["--allow-upstream", net]
        return cmd + list(self.extra)

    def _insecure(self) -> list[str]:
        return [] if self.verify_upstream else ["--set", "ssl_insecure=true"]

    def start(self, wait_metrics: bool = True) -> Gonogo:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(self.env or {})}
        # its own process group: a Ctrl-C reaches pytest only, whose finalisers then stop it (support/processes.py)
        self.proc = processes.spawn(self.command(), cwd=self.workdir, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, env=env)
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            line = self.wait_for(r"proxy listening at .*:(\d+)")
            self.port = int(re.search(r":(\d+)\.?$", line.strip()).group(1))  # type: ignore[union-attr]
            if wait_metrics:
                line = self.wait_for(r"gonogo metrics at http://[^:]+:(\d+)/metrics")
                self.metrics_port = int(re.search(r":(\d+)/metrics", line).group(1))  # type: ignore[union-attr]
            self.wait_for("gonogo enforcing")
        except BaseException:  # failed or interrupted while starting: the caller has no handle to stop it yet
            processes.end(self.proc, timeout=10)
            raise
        return self

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 30.0) -> str:
        """The next output line matching `pattern` (lines before it are kept in `lines`)."""
        for line in self.lines:
            if re.search(pattern, line) and line not in self._matched:
                self._matched.append(line)
                return line
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern!r} within {timeout}s; output:\n{self.output()}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"gonogo exited ({self.proc.wait(timeout=10) if self.proc else '?'}) before "
                                     f"{pattern!r}; output:\n{self.output()}")
            self.lines.append(line)
            if re.search(pattern, line):
                self._matched.append(line)
                return line

    def output(self) -> str:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return "".join(self.lines)

    def client(self, user: str | None = None, password: str = "pw", **kwargs: object) -> httpx.Client:
        """An httpx client using this proxy, trusting its CA (and the test origin's certificate)."""
        proxy = f"http://{user}:{password}@127.0.0.1:{self.port}" if user else self.url
        return httpx.Client(proxy=proxy, verify=trust(self.ca, *kwargs.pop("also_trust", ())),  # type: ignore[arg-type]
                            timeout=20, **kwargs)  # type: ignore[arg-type]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig` (to the process group), wait for the exit (SIGKILL after 20 s); the exit code."""
        if self.proc is None:
            return 0
        return processes.end(self.proc, sig)


def trust(*cas: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    for ca in cas:
        ctx.load_verify_locations(cafile=str(ca))
    return ctx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tunnel_certificate(proxy_port: int, host: str, port: int, sni: str | None = None, user: str = "probe") -> bytes:
    """CONNECT through the proxy by hand and return the DER certificate the client is shown."""
    auth = base64.b64encode(f"{user}:pw".encode()).decode()
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=10) as raw:
        raw.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"Proxy-Authorization: Basic {auth}\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = raw.recv(4096)
            if not chunk:
                break
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 200"), reply
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with ctx.wrap_socket(raw, server_hostname=sni) as tls:
            der = tls.getpeercert(binary_form=True)
            assert der is not None
            return der


class WebSocketClient:
    """A WebSocket over a CONNECT tunnel through the proxy, with TLS trusting `ca`."""

    def __init__(self, proxy_port: int, host: str, port: int, ca: Path, path: str = "/ws",
                 headers: list[tuple[bytes, bytes]] | None = None, user: str | None = None) -> None:
        raw = socket.create_connection(("127.0.0.1", proxy_port), timeout=10)
        auth = ""
        if user:
            auth = f"Proxy-Authorization: Basic {base64.b64encode(f'{user}:pw'.encode()).decode()}\r\n"
        raw.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += raw.recv(4096)
        assert reply.startswith(b"HTTP/1.1 200"), reply
        self.sock = trust(ca).wrap_socket(raw, server_hostname=host)
        self.ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(wsevents.Request(host=host, target=path, extra_headers=headers or [])))
        assert isinstance(self._next_event(), wsevents.AcceptConnection)

    def _next_event(self) -> wsevents.Event | None:
        while True:
            for event in self.ws.events():
                return event
            data = self.sock.recv(65536)
            if not data:
                return None
            self.ws.receive_data(data)

    def send(self, text: str) -> None:
        self.sock.sendall(self.ws.send(wsevents.Message(data=text)))

    def receive(self) -> str | None:
        """The next text message, or None once the peer closed the connection (a timeout raises)."""
        try:
            event = self._next_event()
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError):
            return None
        return event.data if isinstance(event, wsevents.TextMessage) else None

    def close(self) -> None:
        self.sock.close()
