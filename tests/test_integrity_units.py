"""The pure parts of the integrity rules: path and method normalisation (policy/requestline.py), the upstream
rules (gateway/destinations.py) and the names a request gives (gateway/names.py, incl. HTTP/2 :authority)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from mitmproxy import exceptions
from mitmproxy.proxy import server_hooks
from mitmproxy.test import taddons, tflow
from prometheus_client import CollectorRegistry

from proxy_addons.gateway.decider import Decider
from proxy_addons.gateway.destinations import Destinations, parse_address, parse_networks, parse_ports
from proxy_addons.gateway.names import BadRequest, request_names, request_readings
from proxy_addons.gateway.resolve import Resolve
from proxy_addons.gateway.state import GatewayState
from proxy_addons.gateway.upstream import Upstream, ledger_addresses
from proxy_addons.metrics import Metrics
from proxy_addons.policy import Request, Who, load_policy
from proxy_addons.policy.requestline import normalize_path, path_variants, request_methods
from proxy_addons.usage import MemoryLedger


@pytest.mark.parametrize(("raw", "normal"), [
    ("/", "/"), ("", "/"), ("/direct/inbox", "/direct/inbox"), ("/%64irect/inbox", "/direct/inbox"),
    ("//direct/inbox", "/direct/inbox"), ("/./direct/inbox", "/direct/inbox"), ("/x/../direct/inbox", "/direct/inbox"),
    ("/%2e/direct/%2E%2e/direct/inbox", "/direct/inbox"), ("/a/b/..", "/a/"), ("/a/.", "/a/"), ("/..", "/"),
    ("/../../etc", "/etc"), ("/a//", "/a/"), ("/a%2fb", "/a%2Fb"), ("/caf%c3%a9", "/caf%C3%A9"), ("/%7Euser", "/~user"),
    ("/direct/inbox?x=/../y", "/direct/inbox"), ("/a#frag", "/a"), ("*", "/*"), ("/100%", "/100%"),
    ("/A/B", "/A/B"),  # case is the origin's business
])
def test_normalize_path(raw: str, normal: str) -> None:
    assert normalize_path(raw) == normal
    assert normalize_path(normal) == normal  # idempotent


def test_path_variants_add_the_fully_decoded_path() -> None:
    assert path_variants("/direct%2finbox") == ("/direct%2Finbox", "/direct/inbox")
    assert path_variants("/a%2F..%2Fdirect/inbox") == ("/a%2F..%2Fdirect/inbox", "/direct/inbox")
    assert path_variants("/plain") == ("/plain",)


def test_request_methods_take_every_override() -> None:
    assert request_methods("get") == ("GET",)
    assert request_methods("GET", ["post"]) == ("GET", "POST")
    assert request_methods("GET", ["GET, delete", "PUT"]) == ("GET", "DELETE", "PUT")
    assert request_methods("GET", [], "a=1&_method=patch&_method=PUT") == ("GET", "PATCH", "PUT")
    assert request_methods("GET", ["no way", "", "P<O>ST"]) == ("GET",)  # not method tokens: ignored


def test_explain_reads_the_url_as_the_proxy_does() -> None:
    assert Request.from_url("https://facebook.test/%64irect//x/../inbox?q=1").path == "/direct/inbox"


def test_destinations_refuse_the_gateway_itself() -> None:
    rules = Destinations(own_ports=frozenset({8080, 9464}),
                         services=frozenset({(ipaddress.ip_address("10.0.0.9"), 6379)}))
    addr = ipaddress.ip_address
    for refused in ("127.0.0.1", "127.9.9.9", "::1", "0.0.0.0", "169.254.169.254", "fe80::1"):
        assert rules.refusal(addr(refused), 443) == "network", refused
    assert rules.refusal(addr("10.0.0.9"), 6379) == "own_service"
    assert rules.refusal(addr("10.0.0.9"), 443) is None  # intranet stays reachable
    assert rules.refusal(addr("192.168.1.1"), 80) is None
    rules.allowed = parse_networks(["127.0.0.0/8", "10.0.0.0/8"], "test")
    assert rules.refusal(addr("127.0.0.1"), 5000) is None
    assert rules.refusal(addr("127.0.0.1"), 8080) == "own_service"  # the proxy itself, even when admitted
    assert rules.refusal(addr("127.0.0.1"), 9464) == "own_service"
    assert rules.refusal(addr("10.0.0.9"), 6379) == "own_service"  # the ledger, even when admitted


def test_connect_ports() -> None:
    addr = ipaddress.ip_address
    rules = Destinations(connect_ports=parse_ports(["443", "8000-8002"], "test"))
    assert rules.connect_refusal([addr("10.1.1.1")], 443) is None
    assert rules.connect_refusal([addr("10.1.1.1")], 8001) is None
    assert rules.connect_refusal([addr("10.1.1.1")], 22) == "port"
    assert rules.connect_refusal([], 22) == "port"  # unresolvable: the port still decides
    assert rules.ports_text() == "443, 8000-8002"
    rules.allowed = parse_networks(["127.0.0.0/8"], "test")
    assert rules.connect_refusal([addr("127.0.0.1")], 22) is None  # admitted on purpose: any port


def test_parsing() -> None:
    assert parse_address("[::ffff:127.0.0.1]") == ipaddress.ip_address("127.0.0.1")
    assert parse_address("fe80::1%eth0") == ipaddress.ip_address("fe80::1")
    assert parse_address("video.test") is None
    with pytest.raises(ValueError, match="gonogo_allow_upstream: 'nope' is not a network"):
        parse_networks(["nope"], "gonogo_allow_upstream")
    for bad in ("0", "70000", "x", "9-1"):
        with pytest.raises(ValueError):
            parse_ports([bad], "gonogo_connect_ports")
    assert ledger_addresses("redis://127.0.0.1:7000/0") == [(ipaddress.ip_address("127.0.0.1"), 7000)]
    assert ledger_addresses("sqlite:var/gonogo.db") == []


def test_request_names_take_every_name_and_refuse_unreadable_ones() -> None:
    flow = tflow.tflow()
    flow.request.host = "bank.test"
    flow.request.headers["host"] = "bank.test"
    flow.client_conn.sni = "video.test"
    assert request_names(flow) == ["bank.test", "video.test"]
    flow.request.http_version = "HTTP/2.0"
    flow.request.authority = "tiktok.test:443"
    assert request_names(flow) == ["bank.test", "tiktok.test", "video.test"]
    flow.request.headers.add("host", "news.test")
    with pytest.raises(BadRequest, match="two_hosts"):
        request_names(flow)
    flow.request.headers["host"] = "bank.test:abc"
    with pytest.raises(BadRequest, match="bad_host"):
        request_names(flow)


def test_request_readings() -> None:
    flow = tflow.tflow()
    flow.request.method = "GET"
    flow.request.path = "/%64irect/x?_method=delete"
    flow.request.headers["x-http-method-override"] = "POST"
    method, path, variants = request_readings(flow)
    assert (method, path) == ("GET", "/direct/x")
    assert set(variants) == {("POST", "/direct/x"), ("DELETE", "/direct/x")}


def test_server_connect_checks_and_pins_the_dialled_address() -> None:
    """The last check, as in transparent mode (no CONNECT): on the address after `gonogo_resolve`, which is
    the one dialled; a refused one gets a connection error, so mitmproxy dials nothing."""

    def data(host: str, port: int = 443) -> server_hooks.ServerConnectionHookData:
        server = tflow.tserver_conn()
        server.address = (host, port)
        return server_hooks.ServerConnectionHookData(server=server, client=tflow.tclient_conn())

    async def test() -> None:
        upstream, resolve = Upstream(GatewayState()), Resolve()
        with taddons.context(upstream, resolve) as tctx:
            tctx.configure(resolve, gonogo_resolve=["loop.test=127.0.0.1", "lan.test=10.1.2.3"])
            for host in ("127.0.0.1", "169.254.169.254", "::1", "localhost"):
                refused = data(host)
                await upstream.server_connect(refused)
                assert refused.server.error is not None and "gonogo refuses" in refused.server.error, host
            mapped = data("www.loop.test")
            resolve.server_connect(mapped)
            await upstream.server_connect(mapped)
            assert mapped.server.error is not None
            lan = data("lan.test")
            resolve.server_connect(lan)
            await upstream.server_connect(lan)
            assert lan.server.error is None and lan.server.address == ("10.1.2.3", 443)
            unknown = data("nowhere.invalid")
            await upstream.server_connect(unknown)
            assert unknown.server.error is not None  # not dialled by name, resolved again unchecked
            tctx.configure(upstream, gonogo_allow_upstream=["127.0.0.0/8"])
            admitted = data("localhost", 5000)
            await upstream.server_connect(admitted)
            assert admitted.server.error is None and admitted.server.address[0] in ("127.0.0.1", "::1")
            upstream.server_connected(admitted)
            assert admitted.server.address == ("localhost", 5000)  # its name back, for connection reuse
            with pytest.raises(exceptions.OptionsError, match="gonogo_connect_ports: 'ssh'"):
                tctx.configure(upstream, gonogo_connect_ports=["ssh"])

    asyncio.run(test())


TWO_BUDGETS = """\
version: 1
timezone: UTC
categories:
  social: {domains: [facebook.test]}
  video: {domains: [tiktok.test]}
rules:
  - name: social time-box
    categories: [social]
    action: timebox
    quota: {minutes: 1, per: day}
  - name: video time-box
    categories: [video]
    action: timebox
    quota: {minutes: 60, per: day}
default: allow
"""


def test_every_named_host_is_charged_and_checked(tmp_path: Path) -> None:
    """CONNECT tiktok.test (budget left) with `Host: facebook.test` (budget spent): refused, not decided
    on the convenient name; a request with both names charges both budgets."""
    (tmp_path / "p.yaml").write_text(TWO_BUDGETS)
    policy = load_policy(tmp_path / "p.yaml")
    noon = dt.datetime(2026, 11, 26, 12, 0, 5, tzinfo=dt.UTC).timestamp()
    clock = [noon]
    decider = Decider(MemoryLedger(), Metrics(CollectorRegistry()), clock=lambda: clock[0])
    person = Who("dirk")

    async def test() -> None:
        both = await decider.decide_each(policy, person, ["tiktok.test", "facebook.test"], "GET", "/")
        assert both[0].decision == "allow"
        clock[0] += 120  # a later minute: the one social minute is spent
        spent = await decider.decide_each(policy, person, ["tiktok.test", "facebook.test"], "GET", "/")
        assert spent[0].decision == "block" and spent[1] == "facebook.test"
        video, _ = await decider.decide_each(policy, person, ["tiktok.test"], "GET", "/")
        assert video.decision == "allow" and video.quota is not None and video.quota.used == 2

    asyncio.run(test())
