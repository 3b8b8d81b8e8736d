"""A real browser asks for an exception: headless Chromium, driven over the DevTools protocol, fills the block
page's form and submits it through the proxy; a form on another page (a `data:` URL, so Chromium sends
`Origin: null` and `Sec-Fetch-Site: cross-site`) posting to the same path with a valid token is refused; and the
status page's Withdraw button takes the request back."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import wsproto
import wsproto.events as wsevents

from tests.support import processes
from tests.support.proxy import GONOGO, Gonogo, Origin
from tests.test_browser_e2e import CHROMIUM
from tests.test_exceptions_e2e import form_of

POLICY = """\
version: 1
categories:
  social: {domains: [facebook.test]}
rules:
  - name: no facebook
    categories: [social]
    action: block
    exceptions: {max_minutes: 60}
"""


class DevTools:
    """The smallest DevTools-protocol client: one page target, commands answered in order."""

    def __init__(self, url: str) -> None:
        rest = url.removeprefix("ws://")
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(wsevents.Request(host=hostport, target="/" + path)))
        self.next_id = 0
        self._buffer = ""
        assert isinstance(self._event(), wsevents.AcceptConnection)

    def _event(self) -> wsevents.Event:
        while True:
            for event in self.ws.events():
                return event
            data = self.sock.recv(1 << 20)
            assert data, "DevTools closed the connection"
            self.ws.receive_data(data)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.sock.sendall(self.ws.send(wsevents.Message(data=json.dumps({"id": self.next_id, "method": method,
                                                                          "params": params}))))
        while True:
            event = self._event()
            if isinstance(event, wsevents.TextMessage):
                self._buffer += event.data
                if not event.message_finished:
                    continue
                message, self._buffer = json.loads(self._buffer), ""
                if message.get("id") == self.next_id:
                    assert "error" not in message, message
                    result: dict[str, Any] = message["result"]
                    return result

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, what: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
            time.sleep(0.1)


def test_chromium_fills_the_form(tmp_path: Path, origin: Origin) -> None:
    assert CHROMIUM, "chromium is missing: `make test` installs it (.ci/debian-packages)"
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(tmp_path, policy).start()
    site = f"http://facebook.test:{origin.http_port}"
    profile = tmp_path / "chromium"
    browser = processes.spawn(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-port=0",
         f"--proxy-server=http://127.0.0.1:{gonogo.port}", "--accept-lang=en", f"{site}/feed"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert time.monotonic() < deadline and browser.poll() is None, "Chromium did not open DevTools"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = DevTools(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])

        page.wait_for("!!document.querySelector('form.ask')", "the block page with its form")
        token = page.evaluate("document.querySelector('input[name=token]').value")
        page.evaluate("document.querySelector('textarea[name=reason]').value = 'Answer a customer on Messenger';"
                      "document.querySelector('input[name=minutes]').value = '20';"
                      "document.querySelector('form.ask').requestSubmit(); true")
        text = page.wait_for("document.body && document.body.innerText.includes('Your request was sent') && "
                             "document.body.innerText", "the request-sent page")
        assert "waiting for IT" in text and "Answer a customer on Messenger" in text

        # the same form, with the real token, from another page: the browser says so, the proxy refuses
        hidden = {**form_of(f'<input type="hidden" name="token" value="{token}">'), "rule": "no facebook",
                  "reason": "forged", "minutes": "5"}
        inputs = "".join(f'<input name="{k}" value="{v}">' for k, v in hidden.items())
        forged = (f'<form method="post" action="{site}/__gonogo__/exception">{inputs}</form>'
                  "<script>document.forms[0].submit()</script>")
        page.call("Page.navigate", url="data:text/html," + quote(forged))
        refused = page.wait_for("document.body && document.body.innerText.includes('not sent') && "
                                "document.body.innerText", "the refusal")
        assert "not sent from the gateway" in refused

        # the person no longer needs it: the Withdraw button on their status page takes it back
        page.call("Page.navigate", url="http://gonogo.status/")
        page.wait_for("!!document.querySelector('form.withdraw button')", "the status page's Withdraw button")
        page.evaluate("document.querySelector('form.withdraw').requestSubmit(); true")
        text = page.wait_for("document.body && document.body.innerText.includes('Your request was withdrawn') && "
                             "document.body.innerText", "the request-withdrawn page")
        assert "withdrawn" in text.lower() and "facebook.test" in text

        listed = processes.run([str(GONOGO), "requests", "list", "--json", "--policy", str(policy),
                                "--state", gonogo.state], timeout=60, text=True)
        assert [(r["reason"], r["minutes"], r["host"], r["state"]) for r in json.loads(listed.stdout)] == [
            ("Answer a customer on Messenger", 20, "facebook.test", "withdrawn")]
    finally:
        processes.end(browser)
        gonogo.stop()
