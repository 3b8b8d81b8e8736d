"""End to end through a real `gonogo run`: what an employee and an admin meet in the first hour.

- Pages speak the employee's language: rule titles and messages given per language in the policy.
- The audit log counts what a person did: a blocked page view with its favicon and background requests is
  one block, not four.
- Metrics do not single out the one unidentified client: people in no group are folded like a small group.
- Admin commands take the proxy's settings from the environment and refuse a ledger that is not the proxy's.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.proxy import GONOGO, Gonogo, Origin

POLICY = """\
version: 1
timezone: Europe/Amsterdam
categories:
  pro:
    title: {en: Professional networks, nl: Professionele netwerken}
    domains: [linkedin.test]
  social: {domains: [facebook.test]}
rules:
  - name: no linkedin
    title: {en: No LinkedIn at work, nl: Geen LinkedIn op het werk}
    categories: [pro]
    action: block
    message: {en: "Use the company page instead.", nl: "Gebruik de bedrijfspagina."}
  - name: social box
    title: {en: Social media limit, nl: Limiet sociale media}
    categories: [social]
    action: timebox
    quota: {minutes: 30, per: day}
default: allow
"""

NAV = {"accept": "text/html,application/xhtml+xml", "sec-fetch-dest": "document"}
DUTCH = {"accept-language": "nl-NL,nl;q=0.9,en;q=0.5"}


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gonogo]:
    work = tmp_path_factory.mktemp("first-hour")
    policy = work / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(work, policy).start()  # no proxyauth: clients are known by address only
    yield gonogo
    assert gonogo.stop() == 0, gonogo.output()


def https(origin: Origin, host: str, path: str = "/") -> str:
    return f"https://{host}:{origin.https_port}{path}"


def client(proxy: Gonogo, origin: Origin) -> httpx.Client:
    return proxy.client(also_trust=(origin.cert,))


def audit_records(proxy: Gonogo) -> list[dict]:
    directory = Path(proxy.state.removeprefix("sqlite:")).parent / "audit"
    return [json.loads(line) for file in sorted(directory.glob("*.jsonl")) for line in file.read_text().splitlines()]


def wait_for_record(proxy: Gonogo, match: Callable[[dict], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(match(r) for r in audit_records(proxy)):
            return
        time.sleep(0.05)  # polling a file another process writes; the deadline bounds it
    raise AssertionError("no matching audit record")


def test_block_page_shows_the_rules_title_and_message_in_the_readers_language(proxy: Gonogo, origin: Origin) -> None:
    with client(proxy, origin) as c:
        nl = c.get(https(origin, "linkedin.test", "/feed"), headers={**NAV, **DUTCH})
        en = c.get(https(origin, "linkedin.test", "/feed"), headers=NAV)
        short = c.get(https(origin, "linkedin.test", "/api"), headers={"accept": "application/json", **DUTCH})
        status = c.get("http://gonogo.status/", headers={**NAV, **DUTCH})
    assert nl.status_code == 403 and nl.headers["content-language"] == "nl"
    assert "Geen LinkedIn op het werk" in nl.text and "Gebruik de bedrijfspagina." in nl.text
    assert "Professionele netwerken" in nl.text and "Use the company page" not in nl.text
    assert "No LinkedIn at work" in en.text and "Use the company page instead." in en.text
    assert "Gebruik de bedrijfspagina." in short.text and "Geen LinkedIn op het werk" in short.text
    assert nl.headers["x-gonogo-rule"] == "no linkedin"  # machines still get the rule's key
    assert status.status_code == 200 and "Limiet sociale media" in status.text and "Geen LinkedIn" in status.text


def test_a_blocked_page_view_with_its_background_requests_is_one_audit_record(proxy: Gonogo, origin: Origin) -> None:
    first_minute = int(time.time() // 60)
    with client(proxy, origin) as c:
        answers = [c.get(https(origin, "www.linkedin.test", "/feed"), headers=NAV),
                   c.get(https(origin, "www.linkedin.test", "/favicon.ico"), headers={"sec-fetch-dest": "image"}),
                   c.get(https(origin, "www.linkedin.test", "/api/feed"), headers={"sec-fetch-dest": "empty"}),
                   c.get(https(origin, "www.linkedin.test", "/api/badge"), headers={"sec-fetch-dest": "empty"})]
        last_minute = int(time.time() // 60)
        c.get(https(origin, "marker.linkedin.test", "/"), headers=NAV)  # written after the others (one writer)
    assert [a.status_code for a in answers] == [403] * 4
    wait_for_record(proxy, lambda r: r["host"] == "marker.linkedin.test")
    records = [r for r in audit_records(proxy) if r["host"] == "www.linkedin.test"]
    # one per person, host, event and minute: one record, or two if the clock minute turned meanwhile
    assert len(records) == last_minute - first_minute + 1, records
    assert all(r["event"] == "block" and r["rule"] == "no linkedin" for r in records)


def test_one_unidentified_client_is_not_a_group_of_its_own(proxy: Gonogo, origin: Origin) -> None:
    with client(proxy, origin) as c:
        assert c.get(https(origin, "facebook.test", "/"), headers=NAV).status_code == 200
    metrics = httpx.get(f"http://127.0.0.1:{proxy.metrics_port}/metrics", trust_env=False).text
    requests = [line for line in metrics.splitlines() if line.startswith("gonogo_requests_total{")]
    assert any('group="other"' in line and 'rule="social box"' in line and not line.endswith(" 0.0")
               for line in requests), requests
    assert not [line for line in metrics.splitlines() if 'group="none"' in line]


def test_admin_commands_use_the_proxys_settings_and_refuse_another_ledger(proxy: Gonogo, origin: Origin,
                                                                          tmp_path: Path) -> None:
    with client(proxy, origin) as c:
        c.get(https(origin, "facebook.test", "/"), headers=NAV)
    env = {**os.environ, "GONOGO_POLICY": str(proxy.policy), "GONOGO_STATE": proxy.state}
    shown = subprocess.run([str(GONOGO), "quota", "show", "--ip", "127.0.0.1", "--json"], capture_output=True,
                           text=True, timeout=60, env=env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)[0]["used"] >= 1  # the minutes the proxy counted for this client
    elsewhere = subprocess.run([str(GONOGO), "quota", "grant", "--ip", "127.0.0.1", "--rule", "social box",
                                "--minutes", "10"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                               env={**env, "GONOGO_STATE": "sqlite:var/gonogo.db"})
    assert elsewhere.returncode == 1 and f"no quota store at {tmp_path / 'var' / 'gonogo.db'}" in elsewhere.stderr
    assert not (tmp_path / "var").exists()
    audit = subprocess.run([str(GONOGO), "audit", "--dir", str(Path(proxy.state.removeprefix("sqlite:")).parent /
                                                               "audit")], capture_output=True, text=True,
                           timeout=60, env=env)
    assert audit.returncode == 0 and "(days in Europe/Amsterdam)" in audit.stdout  # GONOGO_POLICY's zone
