"""deploy/ pieces run for real on this machine: the CA step (`gonogo ca init`), Redis with the deployed
arguments, HAProxy with the shipped host configuration in front of stand-in backends (spreading by client
address, stickiness, health checks on /healthz), and the plain-host recipes of deploy/README.md with a real
`gonogo run`: Prometheus with the host config, an htpasswd file, a company CA for upstream sites."""

from __future__ import annotations

import importlib.metadata
import re
import shlex
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.conftest import EXAMPLE_POLICY, ROOT
from tests.support import processes
from tests.support.prometheus import running as prometheus_running
from tests.support.proxy import Gonogo, Origin, make_cert

DEPLOY = ROOT / "deploy"
DEADLINE = 15.0
GONOGO = Path(sys.executable).parent / "gonogo"  # the console script of this checkout's venv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Any, what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)  # polling interval, not synchronisation: the condition decides
    pytest.fail(f"timed out waiting for {what}")


def compose_services() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())["services"]


def k8s_doc(path: str, kind: str) -> dict[str, Any]:
    return next(d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / path).read_text()) if d and d["kind"] == kind)


# ---------------------------------------------------------------------------------------------------------
# the CA step (compose ca-init = systemd ExecStartPre = `gonogo ca init`; tests/test_ca.py tests the command)


def ca_step(where: str, confdir: Path) -> list[str]:
    """The CA step of compose or of a systemd unit as a command line for this checkout, on `confdir`."""
    if where == "compose":
        init = compose_services()["ca-init"]
        argv = [*init["entrypoint"], *init["command"]]
        assert argv[0] == "gonogo"
    else:
        text = (DEPLOY / "systemd" / where).read_text()
        (line,) = re.findall(r"^ExecStartPre=(.+)$", text, re.M)
        argv = shlex.split(line)
        assert argv[0] == "/opt/gonogo/venv/bin/gonogo"
    assert argv[1:3] == ["ca", "init"] and "--confdir" in argv
    argv[argv.index("--confdir") + 1] = str(confdir)
    return [str(GONOGO), *argv[1:]]


def run_ca_step(where: str, confdir: Path) -> str:
    result = subprocess.run(ca_step(where, confdir), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ca_step_makes_a_named_ca_once_and_the_secret_keys_suffice_read_only(tmp_path: Path) -> None:
    from mitmproxy.certs import CertStore

    confdir = tmp_path / "ca"
    out = run_ca_step("compose", confdir)
    cert = x509.load_pem_x509_certificate((confdir / "mitmproxy-ca-cert.pem").read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "gonogo proxy CA"
    assert str(confdir / "mitmproxy-ca-cert.pem") in out, "the log names the certificate to distribute"
    first = {p.name: p.read_bytes() for p in confdir.iterdir()}
    assert {"mitmproxy-ca.pem", "mitmproxy-ca-cert.pem", "mitmproxy-dhparam.pem"} <= set(first)

    for unit_name in ("gonogo.service", "gonogo@.service"):
        run_ca_step(unit_name, confdir)  # every (re)start runs it again: the CA clients trust must not change
        assert {p.name: p.read_bytes() for p in confdir.iterdir()} == first

    # Kubernetes mounts only the Secret's items, read-only: mitmproxy must find everything it needs there.
    volume = next(v for v in k8s_doc("gonogo.yaml", "Deployment")["spec"]["template"]["spec"]["volumes"]
                  if v["name"] == "ca")
    mounted = tmp_path / "secret"
    mounted.mkdir()
    for item in volume["secret"]["items"]:
        shutil.copy(confdir / item["key"], mounted / item["path"])
    before = sorted(p.name for p in mounted.iterdir())
    store = CertStore.from_store(mounted, "mitmproxy", 2048)
    assert sorted(p.name for p in mounted.iterdir()) == before, "mitmproxy wrote into the read-only confdir"
    assert store.default_ca.serial == cert.serial_number


def test_ca_step_keeps_a_ca_the_company_provides(tmp_path: Path) -> None:
    """An existing CA (say, a corporate sub-CA put in the volume as key + certificate) is used, never replaced,
    and the files for clients are made from it."""
    from mitmproxy.certs import CertStore

    confdir = tmp_path / "ca"
    CertStore.create_store(confdir, "mitmproxy", 2048, organization="Example BV", cn="Example BV proxy CA")
    own = (confdir / "mitmproxy-ca.pem").read_bytes()
    for name in list(confdir.iterdir()):
        if name.name != "mitmproxy-ca.pem":
            name.unlink()
    for where in ("compose", "gonogo@.service"):
        run_ca_step(where, confdir)
        assert (confdir / "mitmproxy-ca.pem").read_bytes() == own
        assert (confdir / "mitmproxy-dhparam.pem").exists()
        given = x509.load_pem_x509_certificate((confdir / "mitmproxy-ca-cert.pem").read_bytes())
        assert given == x509.load_pem_x509_certificates(own)[0]
# ---------------------------------------------------------------------------------------------------------
# Redis with the deployed arguments


def test_redis_runs_with_the_deployed_arguments_and_persists_to_aof(tmp_path: Path) -> None:
    compose_args = compose_services()["redis"]["command"]
    k8s_args = k8s_doc("redis.yaml", "StatefulSet")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert compose_args == k8s_args, "compose and Kubernetes run Redis alike"
    exe = shutil.which("redis-server")
    assert exe, "redis-server is installed by `make test` (Debian package redis-server)"
    port = free_port()
    process = processes.spawn([exe, *compose_args[1:], "--bind", "127.0.0.1", "--port", str(port),
                               "--dir", str(tmp_path), "--save", ""],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                assert process.poll() is None, "redis-server rejected the deployed arguments"
                return False

        wait_for(up, "redis-server")
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
        client.set("gonogo:test", "1")
        wait_for(lambda: any(b"gonogo:test" in p.read_bytes() for p in tmp_path.rglob("*.aof")),
                 "the write to reach the append-only file")
        client.close()
    finally:
        processes.end(process, timeout=10)


# ---------------------------------------------------------------------------------------------------------
# HAProxy (deploy/haproxy/haproxy.cfg) in front of stand-in gonogo processes


class Backend:
    """Stands in for one gonogo process: the proxy port answers with the backend's name, /healthz with
    200 or 503."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.healthy = True
        backend = self

        class Health(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                code = 200 if backend.healthy and self.path == "/healthz" else 503
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.health = ThreadingHTTPServer(("127.0.0.1", 0), Health)
        self.proxy = socket.create_server(("127.0.0.1", 0))
        self.proxy.settimeout(0.05)
        self.stopping = False
        self.threads = [threading.Thread(target=self.health.serve_forever, args=(0.05,), daemon=True),
                        threading.Thread(target=self._serve_proxy, daemon=True)]
        for thread in self.threads:
            thread.start()

    @property
    def ports(self) -> tuple[int, int]:
        return self.proxy.getsockname()[1], self.health.server_address[1]

    def _serve_proxy(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.proxy.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(self.name.encode())

    def close(self) -> None:
        self.stopping = True
        self.health.shutdown()
        self.health.server_close()
        for thread in self.threads:
            thread.join(timeout=5)
        self.proxy.close()


@pytest.fixture()
def haproxy(tmp_path: Path) -> Iterator[tuple[int, list[Backend]]]:
    exe = shutil.which("haproxy")
    if exe is None:
        pytest.skip("haproxy not installed (Debian package haproxy)")
    backends = [Backend(f"b{i}") for i in range(1, 5)]
    front = free_port()
    text = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()
    # The shipped file, with this test's ports and a fast health check; everything else as deployed.
    for old, new in (("log /dev/log local0", "log stderr local0"),
                     ("maxconn 20000", "maxconn 1000"),  # this sandbox's hard limit on open files is lower
                     ("bind :8080", f"bind 127.0.0.1:{front}"),
                     ("bind 127.0.0.1:8405", f"bind 127.0.0.1:{free_port()}"),
                     ("inter 5s", "inter 100ms")):
        assert old in text, f"deploy/haproxy/haproxy.cfg changed: adapt this test ({old!r})"
        text = text.replace(old, new)
    servers = iter(backends)

    def server_line(match: re.Match[str]) -> str:
        proxy_port, health_port = next(servers).ports
        return f"server {match.group(1)} 127.0.0.1:{proxy_port} check port {health_port}"

    text, count = re.subn(r"server (\S+) 127\.0\.0\.1:\d+ check port \d+", server_line, text)
    assert count == len(backends)
    config = tmp_path / "haproxy.cfg"
    config.write_text(text)
    log = (tmp_path / "haproxy.log").open("wb")
    process = processes.spawn([exe, "-db", "-f", str(config)], stdout=log, stderr=log)
    try:
        yield front, backends
    finally:
        processes.end(process, timeout=10)
        log.close()
        for backend in backends:
            backend.close()


def via(front: int, source: str) -> str | None:
    """Which backend a client at `source` (a loopback address) lands on; None if refused."""
    try:
        with socket.create_connection(("127.0.0.1", front), timeout=2, source_address=(source, 0)) as s:
            return s.recv(16).decode() or None
    except OSError:
        return None


SOURCES = [f"127.0.0.{i}" for i in range(1, 24)]  # 23: a round robin would not repeat itself


def placement(front: int) -> dict[str, str | None]:
    return {source: via(front, source) for source in SOURCES}


def settled(front: int) -> dict[str, str]:
    """Where each client lands, once every one of them gets an answer (a loaded machine may drop a connect)."""
    found: dict[str, str | None] = {}

    def answered() -> bool:
        found.update(placement(front))
        return None not in found.values()

    wait_for(answered, "haproxy to place every client")
    return {source: backend for source, backend in found.items() if backend is not None}


def test_haproxy_spreads_clients_and_keeps_each_on_one_process(haproxy: tuple[int, list[Backend]]) -> None:
    front, _ = haproxy
    first = settled(front)
    assert len(set(first.values())) >= 2, f"all clients on one process: {first}"
    for _ in range(2):
        assert settled(front) == first, "a client moved between processes"


def test_haproxy_takes_an_unhealthy_process_out_and_back(haproxy: tuple[int, list[Backend]]) -> None:
    front, backends = haproxy
    placed = settled(front)
    sick = next(b for b in backends if b.name in placed.values())
    sick.healthy = False
    # only the sick process's clients move, each to a healthy process; everyone else stays (consistent hashing).
    # Waited for, not read once: haproxy notices the failed health checks after a few intervals.
    wait_for(lambda: all(now == placed[s] if placed[s] != sick.name else now not in {None, sick.name}
                         for s, now in placement(front).items()), f"only {sick.name}'s clients to move")
    sick.healthy = True
    wait_for(lambda: placement(front) == placed, f"{sick.name} to return")


# ---------------------------------------------------------------------------------------------------------
# the plain-host recipes of deploy/README.md with a real `gonogo run`

RECORDING = DEPLOY / "prometheus" / "rules" / "recording.yml"
ALLOW_POLICY = """\
version: 1
timezone: UTC
categories:
  social: {domains: [facebook.test]}
rules:
  - name: social is fine
    categories: [social]
    action: allow
"""


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus (Debian package) not installed")
def test_host_prometheus_config_scrapes_a_real_proxy_and_evaluates_the_dashboards_rules(
        tmp_path: Path, origin: Origin) -> None:
    from tests.test_deploy import HOST_PROMETHEUS, install_host_prometheus

    installed = tmp_path / "etc-prometheus"
    installed.mkdir()
    config = yaml.safe_load(install_host_prometheus(installed).read_text())
    config["global"] = {**config["global"], "scrape_interval": "1s", "evaluation_interval": "1s"}  # test pace
    proxy = Gonogo(tmp_path, EXAMPLE_POLICY, "--set", "proxyauth=any", "--quiet").start()
    try:
        for job in config["scrape_configs"]:  # the shipped targets, moved to the ports this test got
            if job["job_name"] == "gonogo":
                assert job["static_configs"][0]["targets"] == ["127.0.0.1:9464"], HOST_PROMETHEUS
                job["static_configs"] = [{"targets": [f"127.0.0.1:{proxy.metrics_port}"]}]
        with proxy.client("anna") as client:  # some traffic, so rate() rules have something to compute
            assert client.get(f"http://example.test:{origin.http_port}/").status_code == 200
        with prometheus_running(installed, [], config=config) as prometheus:
            prometheus.wait(lambda: prometheus.value('up{job="gonogo"}') == 1, 60, "the proxy scraped as job gonogo")
            wanted = {r["record"] for g in yaml.safe_load(RECORDING.read_text())["groups"] for r in g["rules"]}

            def evaluated() -> bool:
                rules = {r["name"]: r for r in prometheus.rules()}
                assert wanted <= set(rules), f"recording rules not loaded: {wanted - set(rules)}"
                return all(rules[name]["health"] == "ok" for name in wanted)

            prometheus.wait(evaluated, 60, "every recording rule evaluated without error")
            prometheus.wait(lambda: any(prometheus.query(name) for name in wanted), 60,
                            "a recording rule computed from the proxy's metrics")
    finally:
        assert proxy.stop() == 0, proxy.output()


MITMPROXY_MAJOR = int(importlib.metadata.version("mitmproxy").split(".")[0])


def htpasswd_bcrypt(user: str, password: str) -> str:
    """An entry as `htpasswd -B` writes it ($2y$ bcrypt), made with mitmproxy's own dependency: passlib
    (mitmproxy 11) or bcrypt (mitmproxy 12)."""
    try:
        from passlib.hash import bcrypt
    except ImportError:
        import bcrypt as pyca_bcrypt

        hashed = pyca_bcrypt.hashpw(password.encode(), pyca_bcrypt.gensalt(rounds=5)).decode()
        return f"{user}:$2y${hashed.split('$', 2)[2]}"
    return f"{user}:{bcrypt.using(rounds=5, ident='2y').hash(password)}"


def test_htpasswd_recipe_admits_people_with_their_password_only(tmp_path: Path, origin: Origin) -> None:
    if MITMPROXY_MAJOR < 12:  # mitmproxy 11 (passlib) also reads SHA-512 crypt; 12 reads bcrypt only
        sha512 = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input="bobs secret\n", capture_output=True,
                                text=True, timeout=30, check=True).stdout.strip()
        bob = f"bob:{sha512}"
    else:
        bob = htpasswd_bcrypt("bob", "bobs secret")
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(f"{htpasswd_bcrypt('anna', 'annas secret')}\n{bob}\n")
    readme = (DEPLOY / "README.md").read_text()
    assert "GONOGO_OPTS=--set proxyauth=@/etc/gonogo/htpasswd" in readme
    proxy = Gonogo(tmp_path, EXAMPLE_POLICY, "--set", f"proxyauth=@{htpasswd}", "--quiet").start()
    url = f"http://example.test:{origin.http_port}/hello"
    try:
        for user, password, status in [("anna", "annas secret", 200), ("bob", "bobs secret", 200),
                                       ("anna", "bobs secret", 407), ("carol", "annas secret", 407)]:
            with proxy.client(user, password) as client:
                assert client.get(url).status_code == status, (user, password)
        with proxy.client() as client:
            refused = client.get(url)
        assert refused.status_code == 407 and refused.headers["proxy-authenticate"].startswith("Basic")
    finally:
        assert proxy.stop() == 0, proxy.output()


def test_an_upstream_site_signed_by_a_company_ca_needs_the_trusted_ca_bundle(tmp_path: Path, origin: Origin) -> None:
    """The test origin's self-signed certificate stands for the company CA. Without the option the covered (so
    decrypted) site fails; with a bundle made as the README says (public CAs + company root) it works."""
    import certifi

    policy = tmp_path / "policy.yaml"
    policy.write_text(ALLOW_POLICY)
    bundle = tmp_path / "upstream-cas.pem"
    bundle.write_text(Path(certifi.where()).read_text() + origin.cert.read_text())
    assert "--set ssl_verify_upstream_trusted_ca=" in (DEPLOY / "README.md").read_text()
    url = f"https://facebook.test:{origin.https_port}/feed"
    trusted = ("--set", f"ssl_verify_upstream_trusted_ca={bundle}")
    for name, extra, status in [("default", (), 502), ("bundle", trusted, 200)]:
        (tmp_path / name).mkdir()
        proxy = Gonogo(tmp_path / name, policy, *extra, "--quiet", verify_upstream=True).start()
        try:
            with proxy.client() as client:
                response = client.get(url)
            assert response.status_code == status, (name, response.text[:500])
        finally:
            assert proxy.stop() == 0, proxy.output()


@pytest.mark.skipif(shutil.which("haproxy") is None or shutil.which("curl") is None,
                    reason="haproxy and curl are installed by `make test`")
def test_tls_in_front_of_the_proxy_as_the_readme_shows_carries_proxy_credentials_encrypted(
        tmp_path: Path, origin: Origin) -> None:
    """The README's HAProxy TLS front, run for real: curl speaks TLS to it (an HTTPS proxy), so the Basic
    credentials never cross the LAN in the clear, and gonogo behind it authenticates them as usual."""
    (block,) = re.findall(r"```haproxy\n(.*?)```", (DEPLOY / "README.md").read_text(), re.S)
    cert, key = make_cert(tmp_path)  # valid for 127.0.0.1; stands for the gateway's certificate
    pem = tmp_path / "gonogo-proxy.pem"
    pem.write_text(cert.read_text() + key.read_text())
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(htpasswd_bcrypt("anna", "annas secret") + "\n")
    proxy = Gonogo(tmp_path, EXAMPLE_POLICY, "--set", f"proxyauth=@{htpasswd}", "--quiet").start()
    front = free_port()
    text = textwrap.dedent(block)
    text, binds = re.subn(r"bind :8443 ssl crt \S+", f"bind 127.0.0.1:{front} ssl crt {pem}", text)
    text, servers = re.subn(r"server gonogo 127\.0\.0\.1:8080", f"server gonogo 127.0.0.1:{proxy.port}", text)
    assert (binds, servers) == (1, 1), block
    config = tmp_path / "haproxy.cfg"
    config.write_text("defaults\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n" + text)
    log = (tmp_path / "haproxy.log").open("wb")
    haproxy = processes.spawn([str(shutil.which("haproxy")), "-db", "-f", str(config)], stdout=log, stderr=log)
    try:
        def listening() -> bool:
            assert haproxy.poll() is None, (tmp_path / "haproxy.log").read_text()
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", front)) == 0

        wait_for(listening, "HAProxy's TLS front")

        def curl(user: str) -> str:
            done = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--proxy", f"https://127.0.0.1:{front}",
                 "--proxy-cacert", str(cert), "--proxy-user", user, f"http://example.test:{origin.http_port}/tls"],
                capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr
            return done.stdout

        assert curl("anna:annas secret") == "200"
        assert curl("anna:wrong") == "407"
    finally:
        processes.end(haproxy, timeout=10)
        log.close()
        assert proxy.stop() == 0, proxy.output()
