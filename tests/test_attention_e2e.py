"""Fair counting through a real `gonogo run`: one request per Sec-Fetch-* case, the background data threshold,
clients without those headers, WebSockets that only receive or also send, and a spent budget still blocking
background requests. Minutes are moved with the test-only clock file, never waited for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.proxy import Gonogo, Origin, WebSocketClient, make_cert
from tests.support.timebox import FileClock, balance

POLICY = """\
version: 1
counting_background_kb: 64
rules:
  - name: feed
    domains: [facebook.test]
    action: timebox
    quota: {minutes: 30, per: day}
  - name: clips
    domains: [tiktok.test]
    action: timebox
    counting: requests
    quota: {minutes: 30, per: day}
  - name: news
    domains: [news.test]
    action: timebox
    quota: {minutes: 1, per: day}
"""
NAVIGATE = {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate", "accept": "text/html"}
IMAGE = {"sec-fetch-dest": "image", "sec-fetch-mode": "no-cors"}
FETCH = {"sec-fetch-dest": "empty", "sec-fetch-mode": "cors"}
BEACON = {"sec-fetch-dest": "empty", "sec-fetch-mode": "no-cors"}
SCRIPT = {"sec-fetch-dest": "script", "sec-fetch-mode": "no-cors"}
FRAME = {"sec-fetch-dest": "iframe", "sec-fetch-mode": "navigate"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gonogo, Origin, FileClock]]:
    tmp = tmp_path_factory.mktemp("attention")
    cert, key = make_cert(tmp)
    origin = Origin(cert, key).start()
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY)
    clock = FileClock(tmp / "clock")
    proxy = Gonogo(tmp, policy, "--set", "proxyauth=any", *clock.option()).start()
    yield proxy, origin, clock
    proxy.stop()
    origin.stop()


def get(setup: tuple[Gonogo, Origin, FileClock], user: str, host: str, path: str,
        headers: dict[str, str] | None = None) -> httpx.Response:
    proxy, origin, _ = setup
    with proxy.client(user, also_trust=(origin.cert,)) as c:
        return c.get(f"https://{host}:{origin.https_port}{path}", headers=headers or {})


@pytest.mark.parametrize(("user", "headers", "spends"), [
    ("page", NAVIGATE, True), ("frame", FRAME, True), ("image", IMAGE, True), ("script", SCRIPT, True),
    ("app", None, True),  # no Sec-Fetch-*: counts
    ("fetch", FETCH, False), ("beacon", BEACON, False),
])
def test_each_sec_fetch_case(setup: tuple[Gonogo, Origin, FileClock], user: str, headers: dict[str, str] | None,
                             spends: bool) -> None:
    proxy, _, clock = setup
    first = get(setup, user, "facebook.test", "/", headers)
    assert first.status_code == 200 and first.text.startswith("origin says hello")
    assert first.headers["x-gonogo-minutes-left"] == ("29" if spends else "30")
    assert balance(proxy.state, f"user:{user}", "feed", clock.now())[0] == (1 if spends else 0)


def test_counting_requests_counts_background_too(setup: tuple[Gonogo, Origin, FileClock]) -> None:
    proxy, _, clock = setup
    assert get(setup, "poller", "tiktok.test", "/api", FETCH).headers["x-gonogo-minutes-left"] == "29"
    assert balance(proxy.state, "user:poller", "clips", clock.now())[0] == 1


def test_background_data_over_the_threshold_counts_the_minute(setup: tuple[Gonogo, Origin, FileClock]) -> None:
    proxy, _, clock = setup
    for _ in range(3):  # a feed's polls: a few KB a minute
        assert get(setup, "viewer", "facebook.test", "/bytes/2000", FETCH).status_code == 200
    assert balance(proxy.state, "user:viewer", "feed", clock.now())[0] == 0
    assert get(setup, "viewer", "facebook.test", "/bytes/40000", FETCH).status_code == 200
    assert balance(proxy.state, "user:viewer", "feed", clock.now())[0] == 0  # 46 KB < 64 KB
    segment = get(setup, "viewer", "facebook.test", "/bytes/40000", FETCH)  # 86 KB: a video player's segments
    assert segment.status_code == 200 and len(segment.content) == 40000
    assert balance(proxy.state, "user:viewer", "feed", clock.now()) == (1, True, 0)
    assert get(setup, "viewer", "facebook.test", "/bytes/40000", FETCH).headers["x-gonogo-minutes-left"] == "29"
    clock.advance()  # the next minute starts from nothing
    assert get(setup, "viewer", "facebook.test", "/bytes/40000", FETCH).status_code == 200
    assert balance(proxy.state, "user:viewer", "feed", clock.now())[:2] == (1, False)


def test_a_spent_budget_blocks_background_with_the_short_403(setup: tuple[Gonogo, Origin, FileClock]) -> None:
    proxy, _, clock = setup
    assert get(setup, "reader", "news.test", "/", NAVIGATE).status_code == 200
    assert get(setup, "reader", "news.test", "/api", FETCH).status_code == 200  # the same, counted minute
    clock.advance()
    poll = get(setup, "reader", "news.test", "/api", FETCH)
    assert poll.status_code == 403 and poll.headers["content-type"].startswith("text/plain")
    assert "news" in poll.text
    page = get(setup, "reader", "news.test", "/", NAVIGATE)
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert balance(proxy.state, "user:reader", "news", clock.now())[0] == 1


def test_websocket_that_only_receives_does_not_spend(setup: tuple[Gonogo, Origin, FileClock]) -> None:
    proxy, origin, clock = setup
    headers = [(b"sec-fetch-dest", b"websocket"), (b"sec-fetch-mode", b"websocket")]  # as a browser sends
    ws = WebSocketClient(proxy.port, "facebook.test", origin.https_port, proxy.ca, "/push", headers, user="chat")
    try:
        for _ in range(3):  # three minutes of a chat pushing updates to an unwatched tab
            for _ in range(5):
                message = ws.receive()
                assert message is not None and message.startswith("push"), message
            clock.advance()
        assert balance(proxy.state, "user:chat", "feed", clock.now() - 180)[0] == 0
        ws.send("typing")  # the person writes: attention
        reply = ws.receive()
        while reply is not None and reply.startswith("push"):
            reply = ws.receive()
        assert reply == "echo typing"
        assert balance(proxy.state, "user:chat", "feed", clock.now()) == (1, True, 0)
    finally:
        ws.close()


def test_clients_without_fetch_metadata_can_be_set_never_to_count(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path)
    origin = Origin(cert, key).start()
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.replace("counting_background_kb: 64", "counting_without_fetch_metadata: never"))
    clock = FileClock(tmp_path / "clock")
    proxy = Gonogo(tmp_path, policy, "--set", "proxyauth=any", *clock.option()).start()
    try:
        setup = (proxy, origin, clock)
        app = get(setup, "app", "facebook.test", "/api/timeline")  # a script: no Sec-Fetch-* at all
        assert app.status_code == 200 and app.headers["x-gonogo-minutes-left"] == "30"
        assert balance(proxy.state, "user:app", "feed", clock.now())[0] == 0
        assert get(setup, "app", "facebook.test", "/", NAVIGATE).headers["x-gonogo-minutes-left"] == "29"
    finally:
        proxy.stop()
        origin.stop()
