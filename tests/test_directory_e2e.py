"""Groups from the company directory, end to end: a real `gonogo run` with mitmproxy's own LDAP proxyauth
and `directory:` groups against one real OpenLDAP `slapd` (tests/support/ldap.py).

One directory gives both who you are (proxyauth) and which groups you are in; moving a person to another
group (ldapmodify) changes their decision after the refresh without a restart; stopping slapd keeps the last
known groups (and the metric and log say so) and refuses new logins; starting it again recovers both.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.ldap import BASE_DN, PEOPLE, SALES, SERVICE_DN, SERVICE_PW, SOCIAL, SlapdServer
from tests.support.proxy import Gonogo, Origin

POLICY = """\
version: 1
identity:
  directory:
    url: {url}
    bind_dn: {service}
    password_file: ldap-password
    base_dn: {base}
    user_filter: "(&(uid={{user}})(!(employeeType=disabled)))"
    refresh: 1s
    timeout: 2s
categories:
  social: {{domains: [facebook.test]}}
groups:
  social-team: {{directory: "{social}"}}
  sales: {{directory: "{sales}"}}
rules:
  - name: social team may
    groups: [social-team]
    categories: [social]
    action: allow
  - name: no social
    categories: [social]
    action: block
"""


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Bounded polling of a real process's observable state (a decision, a metric)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


@pytest.fixture(scope="module")
def slapd() -> Iterator[SlapdServer]:
    with tempfile.TemporaryDirectory(prefix="gonogo-slapd-") as d, SlapdServer(Path(d)) as server:
        yield server


@pytest.fixture
def gonogo(tmp_path: Path, slapd: SlapdServer) -> Iterator[Gonogo]:
    (tmp_path / "ldap-password").write_text(SERVICE_PW + "\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(url=slapd.url, service=SERVICE_DN, base=BASE_DN, social=SOCIAL, sales=SALES))
    auth = f"ldap:127.0.0.1:{slapd.port}:{SERVICE_DN}:{SERVICE_PW}:{PEOPLE}?search_filter_key=uid"
    proxy = Gonogo(tmp_path, policy, "--set", f"proxyauth={auth}")
    proxy.start()
    proxy.wait_for("directory membership loaded")
    yield proxy
    proxy.stop()


def status(client: httpx.Client, origin: Origin) -> int:
    return client.get(f"https://facebook.test:{origin.https_port}/").status_code


def metric(proxy: Gonogo, name: str) -> str | None:
    text = httpx.get(f"http://127.0.0.1:{proxy.metrics_port}/metrics", timeout=10).text
    return next((line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")), None)


def test_directory_groups_decide_and_follow_the_directory(gonogo: Gonogo, slapd: SlapdServer,
                                                          origin: Origin) -> None:
    anna = gonogo.client("anna", "secret-anna", also_trust=(origin.cert,))
    carol = gonogo.client("Carol", "secret-carol", also_trust=(origin.cert,))  # any case names the same person
    bob = gonogo.client("bob", "secret-bob", also_trust=(origin.cert,))
    try:
        assert status(anna, origin) == 200  # Social Team
        assert status(carol, origin) == 200  # Interns, nested in Social Team
        assert status(bob, origin) == 403  # Sales
        # the disabled account cannot log in; a wrong password neither
        for user, password in (("dave", "secret-dave"), ("anna", "wrong")):
            with gonogo.client(user, password, also_trust=(origin.cert,)) as refused, \
                    pytest.raises(httpx.ProxyError, match="407"):
                refused.get(f"https://facebook.test:{origin.https_port}/")

        # anna moves to Sales in the directory: her decision follows after a refresh, no restart
        slapd.move("anna", SOCIAL, SALES)
        try:
            wait_until(lambda: status(anna, origin) == 403, 20, "anna blocked after moving to Sales")
            assert metric(gonogo, "gonogo_directory_available") == "1.0"

            # the directory goes down: the last known membership stays, the metric and the log say so
            slapd.stop()
            wait_until(lambda: metric(gonogo, "gonogo_directory_available") == "0.0", 20, "directory down")
            gonogo.wait_for("directory unavailable")
            assert status(carol, origin) == 200  # her authenticated tunnel; groups as last known
            assert status(anna, origin) == 403
            with gonogo.client("erik", "secret-erik", also_trust=(origin.cert,)) as erik, \
                    pytest.raises(httpx.ProxyError, match="407"):
                status(erik, origin)  # a new login cannot be checked: refused
            errors = metric(gonogo, 'gonogo_directory_refreshes_total{result="error"}')
            assert errors is not None and float(errors) >= 1

            # back up: refreshes succeed again without a restart and pick up changes made meanwhile
            slapd.start()
            slapd.move("anna", SALES, SOCIAL)
            gonogo.wait_for("available again", 60)
            assert metric(gonogo, "gonogo_directory_available") == "1.0"
            wait_until(lambda: status(anna, origin) == 200, 20, "anna allowed again after moving back")
            with gonogo.client("erik", "secret-erik", also_trust=(origin.cert,)) as erik:
                assert status(erik, origin) == 403  # logins work again too (in no group: the rule for everyone)
        finally:
            if slapd.process is None:
                slapd.start()
    finally:
        for client in (anna, carol, bob):
            client.close()
