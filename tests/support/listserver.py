"""A real HTTP server on 127.0.0.1 publishing one list, as a list publisher would: with ETag and
Last-Modified, answering conditional requests with 304. A test changes what it serves (body, status,
a body larger than announced, a body that stops arriving) and reads which requests reached it."""

from __future__ import annotations

import hashlib
import http.server
import threading
from dataclasses import dataclass, field


@dataclass
class ListServer:
    body: bytes = b""
    status: int = 200
    chunked: bool = False  # no Content-Length: the client only learns the size by reading
    stall_after: int | None = None  # send this many bytes, then nothing until the client gives up
    last_modified: str = "Mon, 30 Nov 2026 00:00:00 GMT"
    requests: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None
    _release: threading.Event = field(default_factory=threading.Event)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def url(self, path: str = "/list.txt") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> ListServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                owner.requests.append({k.lower(): v for k, v in self.headers.items()})
                if owner.status != 200:
                    self.send_response(owner.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.headers.get("If-None-Match") == owner.etag:
                    self.send_response(304)
                    self.send_header("ETag", owner.etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", owner.etag)
                self.send_header("Last-Modified", owner.last_modified)
                if owner.chunked or owner.stall_after is not None:
                    self.send_header("Connection", "close")
                else:
                    self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                if owner.stall_after is not None:
                    self.wfile.write(owner.body[:owner.stall_after])
                    self.wfile.flush()
                    owner._release.wait(30)
                    return
                self.wfile.write(owner.body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
