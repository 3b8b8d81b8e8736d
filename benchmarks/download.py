"""What does one large download cost the gateway: memory, and when does the first byte arrive?

Starts `gonogo run` twice (streaming by default: `stream_large_bodies=1m`; and buffering the whole body, as
mitmproxy does unless told otherwise: `--set stream_large_bodies=1g`), sends one plain-HTTP download of
--mb megabytes (default 64) from a local origin through each, and prints the proxy's peak RSS (VmHWM) before
and after, the time to the first body byte and the total time. Nothing is asserted: tests never time things.

    .venv/bin/python benchmarks/download.py [--mb 64]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

POLICY = "version: 1\ntimezone: UTC\nrules: []\ndefault: allow\n"
HOST = "download.test"
CHUNK = 1 << 16


def origin(size: int) -> tuple[socket.socket, int]:
    """A one-request-per-connection origin sending `size` bytes as fast as the proxy takes them."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % size)
                block = b"x" * CHUNK
                for _ in range(size // CHUNK):
                    conn.sendall(block)

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def download(proxy_port: int, origin_port: int, size: int) -> tuple[float, float]:
    """(seconds to the first body byte, seconds to the last) of one download through the proxy."""
    started = time.monotonic()
    first = 0.0
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=120) as sock:
        sock.sendall(f"GET http://{HOST}:{origin_port}/big HTTP/1.1\r\nHost: {HOST}:{origin_port}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(CHUNK)
        got = len(head.partition(b"\r\n\r\n")[2])
        if got:
            first = time.monotonic() - started
        while got < size:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise SystemExit(f"the download ended after {got} of {size} bytes")
            if not first:
                first = time.monotonic() - started
            got += len(chunk)
    return first, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=64, help="size of the download in MB (default 64)")
    args = parser.parse_args()
    size = args.mb * 1024 * 1024
    print(f"machine: {harness.machine()}")
    print(f"one {args.mb} MB plain-HTTP download through gonogo run")
    server, port = origin(size)
    try:
        with tempfile.TemporaryDirectory(prefix="gonogo-download-") as tmp:
            work = Path(tmp)
            policy = work / "policy.yaml"
            policy.write_text(POLICY)
            with harness.Procs(work) as procs:
                for label, extra in (("streaming (default)", ()),
                                     ("buffered (stream_large_bodies=1g)", ("--set", "stream_large_bodies=1g"))):
                    proc = procs.gonogo(policy, *extra, resolve=(HOST,), name=label.split()[0])
                    before = proc.peak_mb()
                    first, total = download(proc.port, port, size)
                    print(f"{label:36} peak RSS {before:6.1f} -> {proc.peak_mb():6.1f} MB, first byte after "
                          f"{first:6.3f} s, all after {total:6.3f} s")
    finally:
        server.close()


if __name__ == "__main__":
    main()
