"""`gonogo run --workers 2`: two real worker processes behind one listen port, real requests through it.

Which worker answered is read from `X-Gonogo-Worker` (on the proxy's own answers and time-boxed responses).
Each request uses a new client, so a new connection: the kernel spreads connections over the workers by a hash
of the connection's addresses, so a bounded number of attempts sees both.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.prometheus import promtool_findings
from tests.support.proxy import Gonogo, Origin
from tests.test_proxy_e2e import POLICY

ATTEMPTS = 200  # new connections tried before concluding that a worker never answers


def start(work: Path) -> Gonogo:
    policy = work / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(work, policy, "--workers", "2", "--set", "proxyauth=any").start()
    gonogo.wait_for("all 2 workers enforcing")
    return gonogo


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gonogo]:
    gonogo = start(tmp_path_factory.mktemp("workers"))
    yield gonogo
    assert gonogo.stop() == 0, gonogo.output()


def worker_pids(gonogo: Gonogo) -> dict[str, int]:
    """The latest pid of each worker, from the parent's log."""
    gonogo.output()
    return {ident: int(pid) for ident, pid in re.findall(r"worker (\d+) started \(pid (\d+)\)", "".join(gonogo.lines))}


def get(gonogo: Gonogo, url: str, user: str = "wendy") -> httpx.Response:
    with httpx.Client(proxy=f"http://{user}:pw@127.0.0.1:{gonogo.port}", timeout=20) as c:
        return c.get(url)


def answering_workers(gonogo: Gonogo, url: str, user: str = "wendy") -> tuple[set[str], list[httpx.Response]]:
    seen: set[str] = set()
    responses = []
    for _ in range(ATTEMPTS):
        r = get(gonogo, url, user)
        responses.append(r)
        seen.add(r.headers.get("x-gonogo-worker", "none"))
        if {"1", "2"} <= seen:
            break
    return seen, responses


def scrape(gonogo: Gonogo) -> str:
    return httpx.get(f"http://127.0.0.1:{gonogo.metrics_port}/metrics", timeout=20).text


def sample(exposition: str, name: str, *labels: str) -> float:
    total = 0.0
    for line in exposition.splitlines():
        if line.startswith(name) and all(label in line for label in labels):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_both_workers_answer_on_one_port_and_one_endpoint_counts_them_all(proxy: Gonogo, origin: Origin) -> None:
    before = sample(scrape(proxy), "gonogo_requests_total{", 'rule="no linkedin"', 'decision="block"')
    seen, responses = answering_workers(proxy, f"http://linkedin.test:{origin.http_port}/")
    assert seen == {"1", "2"}, f"only {seen} answered in {len(responses)} connections"
    assert all(r.status_code == 403 and r.headers["x-gonogo-rule"] == "no linkedin" for r in responses)
    exposition = scrape(proxy)
    assert sample(exposition, "gonogo_workers ") == 2
    blocked = sample(exposition, "gonogo_requests_total{", 'rule="no linkedin"', 'decision="block"')
    assert blocked - before == len(responses)  # both workers' counts, summed
    if shutil.which("promtool"):  # the Debian package prometheus, which `make test` installs
        assert promtool_findings(exposition) == []
    assert httpx.get(f"http://127.0.0.1:{proxy.metrics_port}/healthz", timeout=20).status_code == 200


def test_a_time_boxed_minute_is_written_once_whichever_worker_charges_it(proxy: Gonogo, origin: Origin) -> None:
    first = int(time.time() // 60)
    seen, responses = answering_workers(proxy, f"http://facebook.test:{origin.http_port}/", user="tess")
    last = int(time.time() // 60)
    assert seen == {"1", "2"}, f"only {seen} answered in {len(responses)} connections"
    assert all(r.status_code in (200, 403) for r in responses)
    db = Path(proxy.state.removeprefix("sqlite:"))
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        minutes = [m for (m,) in conn.execute("SELECT minute FROM minutes WHERE user = 'user:tess'")]
        (used,) = conn.execute("SELECT used FROM periods WHERE user = 'user:tess'").fetchone()
    # both workers charged the minute(s) of this test; the store holds each minute once and counts it once
    assert len(minutes) == len(set(minutes)) == used
    assert set(minutes) <= set(range(first, last + 1))


def test_a_killed_worker_is_started_again_and_sigterm_stops_them_all(tmp_path: Path, origin: Origin) -> None:
    gonogo = start(tmp_path)
    try:
        pids = worker_pids(gonogo)
        assert set(pids) == {"1", "2"}
        os.kill(pids["1"], signal.SIGKILL)
        gonogo.wait_for("worker 1 was killed by signal 9; starting it again")
        gonogo.wait_for(rf"worker 1 serving \(pid (?!{pids['1']}\))\d+\)")
        new = worker_pids(gonogo)
        assert new["1"] != pids["1"] and new["2"] == pids["2"]
        seen, _ = answering_workers(gonogo, f"http://linkedin.test:{origin.http_port}/")
        assert seen == {"1", "2"}
        assert gonogo.proc is not None
        os.kill(gonogo.proc.pid, signal.SIGTERM)  # the parent only, as a service manager would
        assert gonogo.proc.wait(timeout=60) == 0, gonogo.output()
        for pid in new.values():
            assert not Path(f"/proc/{pid}").exists(), f"worker pid {pid} outlived the parent"
    finally:
        gonogo.stop()


def test_a_policy_change_reaches_every_worker(tmp_path: Path, origin: Origin) -> None:
    gonogo = start(tmp_path)
    try:
        policy = tmp_path / "policy.yaml"
        policy.write_text(POLICY.replace('message: "LinkedIn <b>is</b> closed."', 'message: "LinkedIn closed today."'))
        gonogo.wait_for("policy reloaded")
        gonogo.wait_for("policy reloaded")  # once per worker
        seen, responses = answering_workers(gonogo, f"http://linkedin.test:{origin.http_port}/")
        assert seen == {"1", "2"}
        assert all("LinkedIn closed today." in r.text for r in responses)
        info = [line for line in scrape(gonogo).splitlines() if line.startswith("gonogo_policy_info{")]
        assert len(info) == 1, info  # both workers report the same (new) policy
    finally:
        assert gonogo.stop() == 0
