"""End to end: a real `gonogo run` process, real HTTP and HTTPS through it, a real origin on 127.0.0.1.

One proxy serves most tests (with `proxyauth=any`, so each test names its own user and budgets do not
mix); tests that change the policy or restart the proxy start their own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from proxy_addons.usage.sqlite import SqliteLedger
from tests.support.proxy import GONOGO, Gonogo, Origin, trust, tunnel_certificate

POLICY = """\
version: 1
timezone: UTC
categories:
  social: {domains: [facebook.test]}
  news: {domains: [news.test]}
  pro: {domains: [linkedin.test]}
groups:
  social-team: {users: [anna]}
  interns: {users: [ivo]}
  sales: {subnets: [127.0.0.0/8]}
rules:
  - name: social team runs our channels
    groups: [social-team]
    categories: [social]
    action: allow
  - name: no posting from interns
    groups: [interns]
    categories: [social]
    methods: [POST]
    action: block
    message: "Posting is done by the social team."
  - name: news needs a reason
    categories: [news]
    action: warn
    continue_minutes: 15
  - name: social time-box
    categories: [social]
    action: timebox
    quota: {minutes: 2, per: week}
  - name: sales skip tiktok
    groups: [sales]
    domains: [tiktok.test]
    action: block
  - name: no linkedin
    categories: [pro]
    action: block
    message: "LinkedIn <b>is</b> closed."
default: allow
"""

NAV = {"accept": "text/html,application/xhtml+xml", "sec-fetch-dest": "document"}



@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gonogo]:
    work = tmp_path_factory.mktemp("proxy")
    policy = work / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(work, policy, "--set", "proxyauth=any").start()
    yield gonogo
    assert gonogo.stop() == 0, gonogo.output()


def url(origin: Origin, host: str, path: str = "/", tls: bool = True) -> str:
    return f"https://{host}:{origin.https_port}{path}" if tls else f"http://{host}:{origin.http_port}{path}"


def client(proxy: Gonogo, origin: Origin, user: str) -> httpx.Client:
    return proxy.client(user, also_trust=(origin.cert,))


def test_uncovered_host_passes_through_with_the_origins_certificate(proxy: Gonogo, origin: Origin) -> None:
    with client(proxy, origin, "pat") as c:
        r = c.get(url(origin, "example.test", "/hello"))
    assert r.status_code == 200 and "hello to example.test/hello" in r.text
    origin_der = ssl.PEM_cert_to_DER_cert(origin.cert.read_text())
    assert tunnel_certificate(proxy.port, "example.test", origin.https_port, "example.test") == origin_der


@pytest.mark.parametrize(("connect", "sni"), [
    ("facebook.test", "facebook.test"),
    ("FaceBook.TEST.", "facebook.test"),
    ("facebook.test", None),  # no SNI, as Go's clients send
    ("example.test", "facebook.test"),  # an innocent CONNECT with a covered SNI
    ("facebook.test", "example.test"),  # and the other way round
])
def test_covered_host_is_intercepted_whatever_the_client_sends(proxy: Gonogo, origin: Origin, connect: str,
                                                                sni: str | None) -> None:
    origin_der = ssl.PEM_cert_to_DER_cert(origin.cert.read_text())
    der = tunnel_certificate(proxy.port, connect, origin.https_port, sni)
    assert der != origin_der  # the proxy's own certificate: the request inside will be decided


def test_block_page_for_navigation_never_contacts_origin(proxy: Gonogo, origin: Origin) -> None:
    with client(proxy, origin, "bob") as c:
        r = c.get(url(origin, "www.linkedin.test", "/feed"), headers=NAV)
        short = c.get(url(origin, "linkedin.test", "/api/x"), headers={"accept": "application/json"})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "no linkedin" in r.text
    assert "LinkedIn &lt;b&gt;is&lt;/b&gt; closed." in r.text  # the policy's message, escaped
    assert short.status_code == 403 and short.headers["content-type"].startswith("text/plain")
    assert "no linkedin" in short.text or "LinkedIn" in short.text
    assert not [s for s in origin.seen if "linkedin" in s.host]
    record = wait_for_audit(proxy, lambda r: r["host"] == "www.linkedin.test")
    assert record["rule"] == "no linkedin" and record["event"] == "block"
    assert record["user"] and record["user"] != "bob"  # pseudonymous by default
    assert "/feed" not in json.dumps(record)  # the host only, never the URL


def wait_for_audit(proxy: Gonogo, match: Callable[[dict], bool], timeout: float = 20) -> dict:
    """Poll the audit log (written by a background thread) until a matching record appears."""
    deadline = time.monotonic() + timeout
    audit_dir = Path(proxy.state.removeprefix("sqlite:")).parent / "audit"
    while time.monotonic() < deadline:
        for file in audit_dir.glob("*.jsonl"):
            for line in file.read_text().splitlines():
                record = json.loads(line)
                if match(record):
                    return record
        time.sleep(0.05)  # polling a file written by another process; the deadline bounds it
    raise AssertionError(f"no matching audit record in {audit_dir}")


def test_block_page_speaks_dutch_when_asked(proxy: Gonogo, origin: Origin) -> None:
    with client(proxy, origin, "bob") as c:
        en = c.get(url(origin, "linkedin.test"), headers=NAV)
        nl = c.get(url(origin, "linkedin.test"), headers={**NAV, "accept-language": "nl-NL,nl;q=0.9,en;q=0.5"})
    assert nl.status_code == 403 and nl.headers.get("content-language") == "nl"
    assert en.headers.get("content-language") == "en"
    assert 'lang="nl"' in nl.text and nl.text != en.text


def test_plain_http_is_decided_too(proxy: Gonogo, origin: Origin) -> None:
    with client(proxy, origin, "bob") as c:
        blocked = c.get(url(origin, "linkedin.test", "/", tls=False))
        fine = c.get(url(origin, "example.test", "/plain", tls=False))
    assert blocked.status_code == 403
    assert fine.status_code == 200 and "example.test/plain" in fine.text


def test_warn_then_continue(proxy: Gonogo, origin: Origin) -> None:
    with client(proxy, origin, "carol") as c, client(proxy, origin, "mallory") as other:
        first = c.get(url(origin, "news.test", "/article?id=7"), headers=NAV)
        assert first.status_code == 403 and "news needs a reason" in first.text
        link = re.search(r'href="(/__gonogo__/continue\?[^"]+)"', first.text)
        assert link, first.text
        href = link.group(1).replace("&amp;", "&")
        # the link is bound to its person: somebody else cannot use it
        assert other.get(url(origin, "news.test", href)).status_code == 403
        went = c.get(url(origin, "news.test", href))
        assert went.status_code == 302 and went.headers["location"] == "/article?id=7"
        after = c.get(url(origin, "news.test", "/article?id=7"), headers=NAV)
        assert after.status_code == 200 and "hello to news.test/article" in after.text
        # mallory still sees the warning
        assert other.get(url(origin, "news.test", "/"), headers=NAV).status_code == 403
    assert not [p for p in origin.paths("news.test") if "__gonogo__" in p]


def test_proxyauth_users_and_groups(proxy: Gonogo, origin: Origin) -> None:
    with client(proxy, origin, "anna") as anna, client(proxy, origin, "ivo") as ivo:
        assert anna.post(url(origin, "facebook.test", "/post"), content=b"x").status_code == 200
        blocked = ivo.post(url(origin, "facebook.test", "/post"), content=b"x", headers=NAV)
        assert blocked.status_code == 403 and "Posting is done by the social team." in blocked.text
        reading = ivo.get(url(origin, "facebook.test", "/feed"))
        assert reading.status_code == 200 and "x-gonogo-minutes-left" in reading.headers


def test_subnet_group_applies_to_the_client_address(proxy: Gonogo, origin: Origin) -> None:
    with client(proxy, origin, "dora") as c:
        r = c.get(url(origin, "tiktok.test"), headers=NAV)
    assert r.status_code == 403 and "sales skip tiktok" in r.text


def precharge(state: str, person: str, count: int) -> None:
    """Spend `count` earlier minutes of this week in the ledger, as earlier browsing would have."""
    now = dt.datetime.now(dt.UTC)
    monday = (now - dt.timedelta(days=now.weekday())).date()
    minute = int(now.timestamp() // 60)
    week_start = int(dt.datetime.combine(monday, dt.time(0), dt.UTC).timestamp() // 60)
    earlier = [m for m in range(minute - count, minute) if m >= week_start]
    if len(earlier) < count:
        pytest.skip("the week started only minutes ago")

    async def spend() -> None:
        ledger = SqliteLedger(Path(state.removeprefix("sqlite:")))
        for m in earlier:
            assert (await ledger.charge(person, "social time-box", f"week-{monday}", m, 2, 3600)).counted
        await ledger.close()

    asyncio.run(spend())


def test_timebox_runs_out(proxy: Gonogo, origin: Origin) -> None:
    precharge(proxy.state, "user:erin", 2)
    with client(proxy, origin, "erin") as erin, client(proxy, origin, "finn") as finn:
        r = erin.get(url(origin, "facebook.test", "/"), headers=NAV)
        assert r.status_code == 403
        assert "social time-box" in r.text
        ok = finn.get(url(origin, "facebook.test", "/"))
        assert ok.status_code == 200 and ok.headers["x-gonogo-minutes-left"] == "1"
        again = finn.get(url(origin, "facebook.test", "/again"))  # same minute or the next: never more than 2
        assert again.status_code == 200 or again.status_code == 403
    assert not [s for s in origin.seen if s.host == "facebook.test" and s.headers.get("proxy-authorization")]


def test_pac_and_status_page(proxy: Gonogo, origin: Origin) -> None:
    pac = httpx.get(f"{proxy.url}/proxy.pac", trust_env=False)
    assert pac.status_code == 200 and "FindProxyForURL" in pac.text and "facebook.test" in pac.text
    assert "example.test" not in pac.text
    assert f"PROXY 127.0.0.1:{proxy.port}" in pac.text
    with client(proxy, origin, "gina") as c:
        c.get(url(origin, "facebook.test", "/"))
        status = c.get("http://gonogo.status/", headers=NAV)
        via_status = c.get("http://gonogo.status/proxy.pac")
    assert via_status.status_code == 200 and f"PROXY 127.0.0.1:{proxy.port}" in via_status.text
    assert status.status_code == 200
    assert "gina" in status.text and "social time-box" in status.text


@pytest.mark.parametrize("mitmdump", [False, True], ids=["gonogo-run", "mitmdump-s"])
def test_a_configured_status_host_is_the_one_every_answer_names(tmp_path: Path, origin: Origin,
                                                                mitmdump: bool) -> None:
    """Block page, short block text, warn page and PAC file all point at the configured status host, and
    every answer the proxy gives itself forbids framing and sniffing."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(tmp_path, policy, "--set", "proxyauth=any", "--set", "gonogo_status_host=me.corp.test",
                    mitmdump=mitmdump).start()
    try:
        pac = httpx.get(f"{gonogo.url}/proxy.pac", trust_env=False)
        with client(gonogo, origin, "hugo") as c:
            page = c.get(url(origin, "linkedin.test"), headers=NAV)
            short = c.get(url(origin, "linkedin.test"))
            warn = c.get(url(origin, "news.test"), headers=NAV)
            status = c.get("http://me.corp.test/", headers=NAV)
    finally:
        assert gonogo.stop() == 0, gonogo.output()
    assert pac.status_code == 200 and '"me.corp.test"' in pac.text and "gonogo.status" not in pac.text
    assert pac.headers["x-content-type-options"] == "nosniff"
    for answer in (page, short, warn):
        assert answer.status_code == 403 and "http://me.corp.test/" in answer.text
        assert "gonogo.status" not in answer.text
    assert status.status_code == 200 and "hugo" in status.text
    for answer in (page, short, warn, status):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_invalid_policy_refuses_to_start(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - name: x\n    action: timebox\n    categories: [nope]\n")
    gonogo = Gonogo(tmp_path, bad)
    import subprocess

    done = subprocess.run(gonogo.command(), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"{bad}:4:13: error:" in done.stderr and "unknown category 'nope'" in done.stderr


def test_reload_applies_good_policy_and_keeps_last_good(tmp_path: Path, origin: Origin) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(tmp_path, policy, "--set", "gonogo_reload_ms=200").start()
    try:
        with gonogo.client(also_trust=(origin.cert,)) as c:
            assert c.get(url(origin, "linkedin.test")).status_code == 403
            opened = POLICY.replace("[pro]\n    action: block", "[pro]\n    action: allow")
            policy.write_text(opened.replace('    message: "LinkedIn <b>is</b> closed."\n', ""))
            gonogo.wait_for("policy reloaded")
            assert c.get(url(origin, "linkedin.test")).status_code == 200
            for broken in ("version: 1\nrules: [\n", "", None):
                if broken is None:
                    policy.unlink()
                else:
                    policy.write_text(broken)
                gonogo.wait_for("policy change rejected")
                assert c.get(url(origin, "linkedin.test")).status_code == 200  # the last good policy
                assert c.get(url(origin, "news.test"), headers=NAV).status_code == 403
    finally:
        assert gonogo.stop() == 0


def test_restart_keeps_used_minutes(tmp_path: Path, origin: Origin) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(tmp_path, policy)
    (tmp_path / "state").mkdir()
    precharge(gonogo.state, "ip:127.0.0.1", 1)
    gonogo.start()
    with gonogo.client(also_trust=(origin.cert,)) as c:
        r = c.get(url(origin, "facebook.test", "/"))
        assert r.status_code == 200 and r.headers["x-gonogo-minutes-left"] == "0"
    gonogo.stop(signal.SIGKILL)  # no clean shutdown
    again = Gonogo(tmp_path, policy).start()
    try:
        with again.client(also_trust=(origin.cert,)) as c:
            r = c.get(url(origin, "facebook.test", "/"))
        # both minutes survived: the same minute is free (0 left), a new one is refused; a proxy that
        # forgot would say 1 left
        assert (r.status_code, r.headers.get("x-gonogo-minutes-left")) in ((200, "0"), (403, None))
    finally:
        again.stop()


def test_ca_is_trusted_only_with_the_generated_ca(proxy: Gonogo, origin: Origin) -> None:
    with httpx.Client(proxy=f"http://u:p@127.0.0.1:{proxy.port}", verify=trust(origin.cert)) as c, \
            pytest.raises(httpx.ConnectError):
        c.get(url(origin, "facebook.test"))


def test_http2_requests_are_decided_on_their_own_host(proxy: Gonogo, origin: Origin, tmp_path: Path) -> None:
    bundle = tmp_path / "ca-bundle.pem"
    bundle.write_text(proxy.ca.read_text() + origin.cert.read_text())

    def curl(host: str, path: str) -> tuple[str, str]:
        done = subprocess.run(
            ["curl", "-sS", "--http2", "-x", f"http://hanna:pw@127.0.0.1:{proxy.port}", "--cacert", str(bundle),
             "-H", "accept: text/html", "-w", "\n%{http_version} %{http_code}", url(origin, host, path)],
            capture_output=True, text=True, timeout=30)
        body, _, status = done.stdout.rpartition("\n")
        return status, body

    status, body = curl("linkedin.test", "/h2")
    assert status == "2 403" and "no linkedin" in body
    status, body = curl("facebook.test", "/h2")
    assert status == "2 200" and "hello to facebook.test/h2" in body


def test_quota_command_sees_what_the_proxy_counted(proxy: Gonogo, origin: Origin) -> None:
    with client(proxy, origin, "ursula") as c:
        assert c.get(url(origin, "facebook.test")).headers["x-gonogo-minutes-left"] == "1"

    def quota(*args: str) -> dict | list:
        done = subprocess.run([str(GONOGO), "quota", *args, "--policy", str(proxy.policy), "--state", proxy.state,
                               "--json"], capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)

    (shown,) = quota("show", "--user", "ursula")
    assert (shown["budget"], shown["used"], shown["limit"]) == ("social time-box", 1, 2)
    granted = quota("grant", "--user", "ursula", "--rule", "social time-box", "--minutes", "5")
    assert granted["extra"] == 5 and granted["left"] == 6
    assert quota("show", "--user", "nobody-else")[0]["used"] == 0


def test_a_taken_metrics_port_stops_the_proxy_with_a_reason(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = Gonogo(tmp_path, policy).command()
        command[command.index("--metrics-port") + 1] = str(port)
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"cannot serve metrics on 127.0.0.1:{port}" in done.stdout + done.stderr


def test_an_unusable_state_stops_the_proxy_with_a_reason(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    (tmp_path / "a-file").write_text("not a directory")
    command = Gonogo(tmp_path, policy, state=f"sqlite:{tmp_path / 'a-file' / 'gonogo.db'}").command()
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "gonogo: cannot start:" in done.stdout + done.stderr
