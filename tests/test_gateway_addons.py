"""Each gateway addon in-process, with mitmproxy's own test helpers: options are honoured when set at start-up
and when changed while the proxy runs (or refused with a clear reason), and the answers the proxy gives
itself carry the configured status host and the page security headers."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import exceptions, tls
from mitmproxy.proxy import server_hooks
from mitmproxy.test import taddons, tflow, tutils

from proxy_addons.gateway.addons import make_addons
from proxy_addons.gateway.enforce import Enforce
from proxy_addons.gateway.own_pages import OwnPages
from proxy_addons.gateway.passthrough import Passthrough
from proxy_addons.gateway.resolve import Resolve
from proxy_addons.gateway.source import PolicySource
from proxy_addons.gateway.state import GatewayState
from proxy_addons.gateway.store import Store

POLICY = """\
version: 1
timezone: UTC
categories:
  games: {domains: [games.test]}
  news: {domains: [news.test]}
rules:
  - name: no games
    categories: [games]
    action: block
  - name: news needs a reason
    categories: [news]
    action: warn
    continue_minutes: 15
default: allow
"""


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


def write_policy(path: Path, text: str = POLICY) -> Path:
    path.write_text(text)
    return path


def opened() -> tuple[GatewayState, list[Any]]:
    """A state and every addon (as `gonogo run` adds them), for a context; call `start` inside it."""
    state = GatewayState()
    return state, make_addons(state)


async def start(tctx: taddons.context, addons: list[Any], tmp_path: Path, **options: Any) -> None:
    policy = write_policy(tmp_path / "policy.yaml")
    tctx.configure(addons[0], gonogo_policy=str(policy), gonogo_state=f"sqlite:{tmp_path / 'gonogo.db'}",
                   gonogo_metrics_port=-1, **options)
    for addon in addons:
        if hasattr(addon, "running"):
            await addon.running() if asyncio.iscoroutinefunction(addon.running) else addon.running()


async def stop(addons: list[Any]) -> None:
    for addon in addons:
        if hasattr(addon, "done"):
            await addon.done()


def page_flow(host: str, path: str = "/", navigation: bool = True) -> Any:
    flow = tflow.tflow(req=tutils.treq(host=host, port=80, path=path.encode(), scheme=b"http"))
    flow.request.headers["host"] = host
    flow.client_conn.sockname = ("127.0.0.1", 8080)  # the proxy's own address, as a real connection has
    if navigation:
        flow.request.headers["sec-fetch-dest"] = "document"
    return flow


async def answer(addons: list[Any], flow: Any) -> Any:
    for addon in addons:
        if hasattr(addon, "request"):
            await addon.request(flow)
    return flow.response


def assert_secure(response: Any) -> None:
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


# -- own pages, refusals and the status host -----------------------------------------------------

def test_a_non_default_status_host_reaches_block_text_warn_page_pac_and_status_page(tmp_path: Path) -> None:
    async def test() -> None:
        _state, addons = opened()
        with taddons.context(*addons) as tctx:
            await start(tctx, addons, tmp_path, gonogo_status_host="me.corp.example")
            text = await answer(addons, page_flow("games.test", navigation=False))
            assert text.status_code == 403 and "http://me.corp.example/" in text.text
            assert "gonogo.status" not in text.text
            warn = await answer(addons, page_flow("news.test"))
            assert warn.status_code == 403 and "http://me.corp.example/" in warn.text
            block = await answer(addons, page_flow("games.test"))
            assert "http://me.corp.example/" in block.text
            pac = await answer(addons, page_flow("me.corp.example", "/proxy.pac"))
            assert pac.status_code == 200 and '"me.corp.example"' in pac.text and "gonogo.status" not in pac.text
            status = await answer(addons, page_flow("me.corp.example"))
            assert status.status_code == 200 and status.headers["content-type"].startswith("text/html")
            # the old name is now an ordinary host, not ours
            assert await answer(addons, page_flow("gonogo.status")) is None
            await stop(addons)
    run(test)


def test_a_run_time_change_of_the_status_host_takes_effect(tmp_path: Path) -> None:
    async def test() -> None:
        state, addons = opened()
        with taddons.context(*addons) as tctx:
            await start(tctx, addons, tmp_path)
            assert "http://gonogo.status/" in (await answer(addons, page_flow("games.test", navigation=False))).text
            tctx.configure(addons[0], gonogo_status_host="Status.Example")
            assert state.status_host == "status.example"
            assert "http://status.example/" in (await answer(addons, page_flow("games.test", navigation=False))).text
            assert '"status.example"' in (await answer(addons, page_flow("status.example", "/wpad.dat"))).text
            with pytest.raises(exceptions.OptionsError, match="gonogo_status_host"):
                tctx.configure(addons[0], gonogo_status_host="not a host")
            assert state.status_host == "status.example"
            await stop(addons)
    run(test)


def test_every_answer_of_our_own_carries_the_page_security_headers(tmp_path: Path) -> None:
    async def test() -> None:
        _state, addons = opened()
        with taddons.context(*addons) as tctx:
            await start(tctx, addons, tmp_path)
            for flow in (page_flow("games.test"), page_flow("games.test", navigation=False), page_flow("news.test"),
                         page_flow("news.test", navigation=False), page_flow("gonogo.status"),
                         page_flow("news.test", "/.gonogo/continue?bad")):
                response = await answer(addons, flow)
                assert response is not None, flow.request.url
                assert_secure(response)
            pac = await answer(addons, page_flow("gonogo.status", "/proxy.pac"))
            assert pac.headers["x-content-type-options"] == "nosniff"
            await stop(addons)
    run(test)


# -- the store: ledger, state directory, metrics server ----------------------------------------

def test_ledger_unavailable_follows_its_option_at_run_time(tmp_path: Path) -> None:
    async def test() -> None:
        state, addons = opened()
        with taddons.context(*addons) as tctx:
            await start(tctx, addons, tmp_path)
            assert state.ledger is not None and state.decider is not None
            assert (state.ledger.unavailable, state.decider.unavailable) == ("allow", "allow")
            tctx.configure(addons[0], gonogo_ledger_unavailable="block")
            assert (state.ledger.unavailable, state.decider.unavailable) == ("block", "block")
            await stop(addons)
    run(test)


def test_state_and_state_dir_cannot_change_while_running_and_say_why(tmp_path: Path) -> None:
    async def test() -> None:
        state, addons = opened()
        with taddons.context(*addons) as tctx:
            await start(tctx, addons, tmp_path)
            before = tctx.options.gonogo_state
            with pytest.raises(exceptions.OptionsError, match="cannot change while the proxy runs"):
                tctx.configure(addons[0], gonogo_state=f"sqlite:{tmp_path / 'other.db'}")
            with pytest.raises(exceptions.OptionsError, match="restart gonogo"):
                tctx.configure(addons[0], gonogo_state_dir=str(tmp_path / "elsewhere"))
            assert tctx.options.gonogo_state == before and state.state_dir == tmp_path
            tctx.configure(addons[0], gonogo_state_dir=str(tmp_path))  # the same directory, spelt out: fine
            await stop(addons)
    run(test)


def healthz(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        return int(response.status)


def test_the_metrics_server_follows_its_options_at_run_time(tmp_path: Path) -> None:
    async def test() -> None:
        _state, addons = opened()
        store = addons[0]
        assert isinstance(store, Store)
        with taddons.context(*addons) as tctx:
            await start(tctx, addons, tmp_path)
            assert store.server is None  # -1: disabled
            tctx.configure(store, gonogo_metrics_port=0)
            assert store.server is not None
            first = store.server
            assert await asyncio.to_thread(healthz, first.port) == 200
            tctx.configure(store, gonogo_metrics_host="localhost")  # restarted on the new address
            assert store.server is not None and store.server is not first and store.server.host == "localhost"
            tctx.configure(store, gonogo_metrics_port=-1)
            assert store.server is None
            await stop(addons)
    run(test)


def test_a_metrics_port_in_use_at_run_time_is_refused_and_the_old_server_stays(tmp_path: Path) -> None:
    async def test() -> None:
        state, addons = opened()
        store = addons[0]
        with taddons.context(*addons) as tctx:
            await start(tctx, addons, tmp_path)
            tctx.configure(store, gonogo_metrics_port=0)
            busy = state.metrics.serve("127.0.0.1", 0)
            with pytest.raises(exceptions.OptionsError, match="cannot serve metrics"):
                tctx.configure(store, gonogo_metrics_port=busy.port)
            busy.stop()
            assert tctx.options.gonogo_metrics_port == 0 and store.server is not None
            assert await asyncio.to_thread(healthz, store.server.port) == 200
            await stop(addons)
    run(test)


# -- the policy source ---------------------------------------------------------------------------

def test_a_run_time_change_of_the_policy_file_loads_it_and_moves_the_watcher(tmp_path: Path) -> None:
    async def test() -> None:
        state, addons = opened()
        source = addons[1]
        assert isinstance(source, PolicySource)
        with taddons.context(*addons) as tctx:
            await start(tctx, addons, tmp_path)
            other = write_policy(tmp_path / "other.yaml", POLICY.replace("default: allow", "default: block"))
            tctx.configure(source, gonogo_policy=str(other))
            assert state.policy is not None and state.policy.default == "block"
            assert source.watcher is not None and source.watcher.path == other
            # the new file is the one watched: a change to it goes into force
            write_policy(other, POLICY.replace("default: allow", "default: block").replace("15", "20"))
            await source.watcher.check()
            assert state.policy.default == "block" and state.policy.rule("news needs a reason").continue_minutes == 20
            # a broken file is refused and the policy in force stays
            broken = write_policy(tmp_path / "broken.yaml", "version: 1\nrules: [\n")
            with pytest.raises(exceptions.OptionsError, match="invalid"):
                tctx.configure(source, gonogo_policy=str(broken))
            assert state.policy.rule("news needs a reason").continue_minutes == 20
            assert tctx.options.gonogo_policy == str(other)
            await stop(addons)
    run(test)


def test_reload_interval_follows_its_option_at_run_time(tmp_path: Path) -> None:
    async def test() -> None:
        _state, addons = opened()
        source = addons[1]
        with taddons.context(*addons) as tctx:
            await start(tctx, addons, tmp_path)
            tctx.configure(source, gonogo_reload_ms=250)
            assert source.watcher.interval == 0.25
            with pytest.raises(exceptions.OptionsError, match="gonogo_reload_ms must be positive"):
                tctx.configure(source, gonogo_reload_ms=0)
            assert source.watcher.interval == 0.25
            await stop(addons)
    run(test)


# -- passthrough and resolve -------------------------------------------------------------------

class _Context:
    def __init__(self, host: str) -> None:
        self.client = tflow.tclient_conn()
        self.server = tflow.tserver_conn()
        self.server.address = (host, 443)


class _Hello:
    def __init__(self, sni: str) -> None:
        self.sni = sni
        self.alpn_protocols: list[bytes] = []


def hello(host: str) -> tls.ClientHelloData:
    return tls.ClientHelloData(_Context(host), _Hello(host))  # type: ignore[arg-type]


def test_tls_mode_follows_its_option_at_run_time(tmp_path: Path) -> None:
    async def test() -> None:
        _state, addons = opened()
        passthrough = next(a for a in addons if isinstance(a, Passthrough))
        with taddons.context(*addons) as tctx:
            await start(tctx, addons, tmp_path)
            news, games, other = hello("news.test"), hello("games.test"), hello("elsewhere.test")
            for data in (news, games, other):
                await passthrough.tls_clienthello(data)
            assert (news.ignore_connection, games.ignore_connection, other.ignore_connection) == (False, False, True)
            tctx.configure(passthrough, gonogo_tls="passthrough-only")
            news, games = hello("news.test"), hello("games.test")
            await passthrough.tls_clienthello(news)
            await passthrough.tls_clienthello(games)
            assert (news.ignore_connection, games.ignore_connection) == (True, False)
            connect = tflow.tflow(req=tutils.treq(method=b"CONNECT", host="games.test", port=443, path=b""))
            await passthrough.http_connect(connect)
            assert connect.response is not None and connect.response.status_code == 403
            await stop(addons)
    run(test)


def server_data(host: str) -> server_hooks.ServerConnectionHookData:
    server = tflow.tserver_conn()
    server.address = (host, 443)
    return server_hooks.ServerConnectionHookData(server=server, client=tflow.tclient_conn())


def test_resolve_follows_its_option_at_run_time() -> None:
    resolve = Resolve()
    with taddons.context(resolve) as tctx:
        tctx.configure(resolve, gonogo_resolve=["site.test=127.0.0.2"])
        data = server_data("www.site.test")
        resolve.server_connect(data)
        assert data.server.address == ("127.0.0.2", 443)
        tctx.configure(resolve, gonogo_resolve=["site.test=127.0.0.3"])
        data = server_data("www.site.test")
        resolve.server_connect(data)
        assert data.server.address == ("127.0.0.3", 443)
        with pytest.raises(exceptions.OptionsError, match="is not HOST=IP"):
            tctx.configure(resolve, gonogo_resolve=["site.test"])
        assert resolve.mapping == {"site.test": "127.0.0.3"}


def test_enforce_and_own_pages_leave_requests_alone_until_the_store_is_open() -> None:
    state = GatewayState()
    addons = [OwnPages(state), Enforce(state)]
    with taddons.context(*addons):
        flow = page_flow("games.test")
        asyncio.run(answer(addons, flow))
    assert flow.response is None
