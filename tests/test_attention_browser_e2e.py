"""Fair counting with a real browser: headless Chromium (one process per tab) through a real `gonogo run`.

A page that only polls in the background for several minutes counts only the minute it was loaded in; a page
that keeps loading images counts every minute it does; a WebSocket page that only receives spends nothing,
one that sends spends its minutes. Minutes are moved with the proxy's test clock, never waited for."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import processes
from tests.support.proxy import Gonogo, Origin, make_cert
from tests.support.timebox import FileClock, balance, wait_until
from tests.test_browser_e2e import CHROMIUM, spki_hash

POLICY = """\
version: 1
rules:
  - name: feed
    domains: [facebook.test]
    action: timebox
    quota: {minutes: 30, per: day}
  - name: photos
    domains: [tiktok.test]
    action: timebox
    quota: {minutes: 30, per: day}
  - name: chat
    domains: [news.test]
    action: timebox
    quota: {minutes: 30, per: day}
"""
POLL = b"""<!doctype html><title>feed</title><body>feed<script>
let n = 0; setInterval(() => fetch('/api/poll?' + (n++)).catch(() => {}), 150);
</script></body>"""
IMAGES = b"""<!doctype html><title>photos</title><body><script>
let n = 0;
setInterval(() => { const i = new Image(); i.src = '/img/' + (n++) + '.gif'; document.body.append(i); }, 150);
</script></body>"""
LISTEN = b"""<!doctype html><title>chat</title><body><script>
const ws = new WebSocket('wss://' + location.host + '/push');
let n = 0; ws.onmessage = () => { if (n++ % 4 == 0) fetch('/seen?' + n).catch(() => {}); };
</script></body>"""
TALK = b"""<!doctype html><title>chat</title><body><script>
const ws = new WebSocket('wss://' + location.host + '/talk');
ws.onopen = () => setInterval(() => ws.send('hi'), 150);
</script></body>"""
MINUTES = 3  # minutes after the load minute


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gonogo, Origin, FileClock, Path]]:
    assert CHROMIUM, "chromium is missing: `make test` installs it (.ci/debian-packages)"
    tmp = tmp_path_factory.mktemp("browser")
    cert, key = make_cert(tmp)
    origin = Origin(cert, key).start()
    origin.pages.update({"/poll.html": ("text/html", POLL), "/images.html": ("text/html", IMAGES),
                         "/listen.html": ("text/html", LISTEN), "/talk.html": ("text/html", TALK)})
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY)
    clock = FileClock(tmp / "clock")
    proxy = Gonogo(tmp, policy, *clock.option()).start()
    yield proxy, origin, clock, tmp
    proxy.stop()
    origin.stop()


def tab(setup: tuple[Gonogo, Origin, FileClock, Path], url: str, name: str) -> subprocess.Popen[bytes]:
    """One headless Chromium with one tab open on `url` (headless mode opens a single target per process), in its
    own process group (tests/support/processes.py) so closing it ends its helpers too."""
    proxy, _, _, tmp = setup
    return processes.spawn(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", f"--user-data-dir={tmp / ('chromium-' + name)}",
         f"--proxy-server=http://127.0.0.1:{proxy.port}",
         f"--ignore-certificate-errors-spki-list={spki_hash(proxy.ca)}", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def browse(setup: tuple[Gonogo, Origin, FileClock, Path], host: str, page: str, seen: str, budget: str) -> int:
    """Open `page` in a browser, keep it open for the load minute and MINUTES more (each minute: until the page
    has made several more requests in it), close it; the minutes the budget used."""
    proxy, origin, clock, _ = setup
    clock.next_minute()
    start = clock.now()

    def made() -> int:
        return sum(1 for s in origin.seen if s.host == host and s.path.startswith(seen))

    def messages() -> int:
        return len(origin.messages) if seen == "/talk" else made()

    browser = tab(setup, f"https://{host}:{origin.https_port}{page}", page.strip("/").split(".")[0])
    try:
        for minute in range(MINUTES + 1):
            if minute:
                clock.next_minute()
            before = messages()
            wait_until(lambda b=before: messages() >= b + 4, f"{page} keeps going in minute {minute}",  # type: ignore[misc]
                       deadline=40)
    finally:
        processes.end(browser)
    return balance(proxy.state, "ip:127.0.0.1", budget, start)[0]


def test_a_page_that_only_polls_counts_its_load_minute(setup: tuple[Gonogo, Origin, FileClock, Path]) -> None:
    assert browse(setup, "facebook.test", "/poll.html", "/api/poll", "feed") == 1


def test_a_page_that_keeps_loading_images_counts_every_minute(setup: tuple[Gonogo, Origin, FileClock, Path]) -> None:
    assert browse(setup, "tiktok.test", "/images.html", "/img/", "photos") == MINUTES + 1


def test_a_websocket_that_only_receives_spends_nothing_one_that_sends_does(
        setup: tuple[Gonogo, Origin, FileClock, Path]) -> None:
    assert browse(setup, "news.test", "/listen.html", "/seen", "chat") == 1  # the page load only
    assert browse(setup, "news.test", "/talk.html", "/talk", "chat") == 1 + MINUTES + 1  # and every minute it sends
