"""Raw sockets through the proxy, for requests no well-behaved client library sends: a CONNECT with chosen
headers, TLS with a chosen SNI or ALPN, two `Host` headers, unnormalised paths, plain TCP in a tunnel. Plus a
TCP listener that records whether anything reached it."""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path


def read_head(sock: socket.socket) -> bytes:
    """Bytes up to the end of an HTTP head (or whatever came before the peer closed)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def status_of(head: bytes) -> int:
    """The status code of an HTTP response head; 0 when nothing (or no HTTP) came back."""
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/") and parts[1].isdigit() else 0


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """(status, head and body) of one response; the body as long as its Content-Length says."""
    data = read_head(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return status_of(head), head + b"\r\n\r\n" + body


def connect(proxy_port: int, target: str, headers: str = "") -> tuple[int, bytes, socket.socket]:
    """Send `CONNECT target` (extra header lines in `headers`); (status, response, socket)."""
    sock = socket.create_connection(("127.0.0.1", proxy_port), timeout=10)
    sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{headers}\r\n".encode())
    status, response = read_response(sock)
    return status, response, sock


def tls(sock: socket.socket, sni: str | None, *cas: Path, alpn: list[str] | None = None) -> ssl.SSLSocket:
    """TLS over `sock` with `sni` (None: no SNI), trusting `cas` (none given: trusting anything)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    if not cas:
        ctx.verify_mode = ssl.CERT_NONE
    for ca in cas:
        ctx.load_verify_locations(cafile=str(ca))
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx.wrap_socket(sock, server_hostname=sni)


def exchange(sock: socket.socket, request: str) -> tuple[int, bytes]:
    """Send a raw request (no body); (status, response)."""
    sock.sendall(request.encode())
    return read_response(sock)


def closed_without_reply(sock: socket.socket) -> bool:
    """Whether the peer closes `sock` without sending a byte (a reset counts as closed)."""
    try:
        return sock.recv(4096) == b""
    except (ConnectionResetError, ssl.SSLError, OSError):
        return True


@dataclass
class TcpListener:
    """A TCP server on 127.0.0.1 that records the bytes of every connection and echoes them back."""

    received: list[bytes] = field(default_factory=list)
    accepted: int = 0
    port: int = 0

    def start(self) -> TcpListener:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                self.received.append(data)
                conn.sendall(data)

    def stop(self) -> None:
        self._sock.close()
