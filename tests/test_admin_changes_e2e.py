"""An admin's change applies at once: `gonogo quota grant` and `reset`, run as the admin runs them, are seen
by a running proxy on the person's next request (SQLite), and by two proxies sharing one real redis-server;
a policy reload that changes a budget's size too. Waiting is polling with a bounded deadline."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import processes
from tests.support.proxy import Gonogo, Origin, make_cert
from tests.support.redis import RedisServer
from tests.support.timebox import FileClock, balance, wait_until

GONOGO = Path(sys.executable).parent / "gonogo"
POLICY = """\
version: 1
rules:
  - name: news
    domains: [news.test]
    action: timebox
    quota: {minutes: 1, per: day}
"""
PAGE = {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate", "accept": "text/html"}
DEADLINE = 5.0  # the watch polls every 0.5 s: a change shows well within 2 s on an idle machine


@pytest.fixture
def origin(tmp_path: Path) -> Iterator[Origin]:
    cert, key = make_cert(tmp_path)
    server = Origin(cert, key).start()
    yield server
    server.stop()


def status(proxy: Gonogo, origin: Origin, user: str) -> int:
    with proxy.client(user, also_trust=(origin.cert,)) as c:
        return c.get(f"https://news.test:{origin.https_port}/", headers=PAGE).status_code


def quota(command: str, policy: Path, state: str, clock: FileClock, *args: str) -> None:
    at = dt.datetime.fromtimestamp(clock.now(), dt.UTC).isoformat()
    done = processes.run([str(GONOGO), "quota", command, "--policy", str(policy), "--state", state,
                          "--user", "ann", "--at", at, *args], timeout=60, text=True)
    assert done.returncode == 0, done.stderr


def spend(proxies: list[Gonogo], origin: Origin, clock: FileClock) -> None:
    """Use minutes until ann is blocked everywhere."""
    while status(proxies[0], origin, "ann") == 200:
        clock.advance()
    for proxy in proxies:
        assert status(proxy, origin, "ann") == 403


def test_grant_reset_and_reload_reach_a_running_proxy(tmp_path: Path, origin: Origin) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    clock = FileClock(tmp_path / "clock")
    proxy = Gonogo(tmp_path, policy, "--set", "proxyauth=any", *clock.option()).start()
    try:
        assert status(proxy, origin, "ann") == 200
        clock.advance()
        assert status(proxy, origin, "ann") == 403
        quota("grant", policy, proxy.state, clock, "--rule", "news", "--minutes", "1")
        wait_until(lambda: status(proxy, origin, "ann") == 200, "the grant", DEADLINE)
        assert balance(proxy.state, "user:ann", "news", clock.now()) == (2, True, 1)
        clock.advance()
        assert status(proxy, origin, "ann") == 403
        quota("reset", policy, proxy.state, clock)
        wait_until(lambda: status(proxy, origin, "ann") == 200, "the reset", DEADLINE)
        assert balance(proxy.state, "user:ann", "news", clock.now()) == (1, True, 0)
        clock.advance()
        assert status(proxy, origin, "ann") == 403
        policy.write_text(POLICY.replace("minutes: 1", "minutes: 3"))  # the admin gives everyone more
        wait_until(lambda: status(proxy, origin, "ann") == 200, "the bigger budget", DEADLINE + 2)
    finally:
        assert proxy.stop() == 0


def test_two_proxies_on_one_redis_see_grant_and_reset(tmp_path: Path, origin: Origin) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    clock = FileClock(tmp_path / "clock")
    proxies = [Gonogo(tmp_path / name, policy, "--set", "proxyauth=any", *clock.option(), state=redis.url)
               for name in ("a", "b")]
    try:
        for proxy in proxies:
            proxy.workdir.mkdir()
            proxy.start()
        spend(proxies, origin, clock)
        quota("grant", policy, redis.url, clock, "--rule", "news", "--minutes", "1")
        for proxy in proxies:  # the next request at either proxy is allowed
            wait_until(lambda p=proxy: status(p, origin, "ann") == 200, "the grant", DEADLINE)  # type: ignore[misc]
        spend(proxies, origin, clock)
        quota("reset", policy, redis.url, clock)
        for proxy in proxies:
            wait_until(lambda p=proxy: status(p, origin, "ann") == 200, "the reset", DEADLINE)  # type: ignore[misc]
        assert balance(redis.url, "user:ann", "news", clock.now())[0] == 1
    finally:
        for proxy in proxies:
            proxy.stop()
        redis.stop()
