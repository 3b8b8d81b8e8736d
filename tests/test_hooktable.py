"""The lean master's addon manager (`cli/hooktable.py`) keeps mitmproxy's dispatch rules: every addon that
handles an event gets it, in chain order, sync or async; an addon's error is logged and the next addon still
runs; `AddonHalt` stops the event; `OptionsError` from `configure` refuses the option; `update` follows flow
events; an addon added later is called too. Checked side by side with mitmproxy's own manager."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from mitmproxy import addonmanager, exceptions, hooks, http, master, options
from mitmproxy.proxy.layers.http import HttpRequestHook
from mitmproxy.test import tflow

from proxy_addons.cli.hooktable import HookTable
from proxy_addons.cli.lean import make_master


class Recorder:
    """A sync handler of `request` that records its name in the flow."""

    def __init__(self, name: str, fail: BaseException | None = None) -> None:
        self.name = name
        self.fail = fail

    def request(self, flow: http.HTTPFlow) -> None:
        flow.metadata.setdefault("seen", []).append(self.name)
        if self.fail is not None:
            raise self.fail


class AsyncRecorder(Recorder):
    async def request(self, flow: http.HTTPFlow) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        Recorder.request(self, flow)


class Parent:
    """An addon with sub-addons: they are called after it, as mitmproxy does."""

    def __init__(self, *children: object) -> None:
        self.addons = list(children)

    def request(self, flow: http.HTTPFlow) -> None:
        flow.metadata.setdefault("seen", []).append("parent")


class Updates:
    def __init__(self) -> None:
        self.updated: list[object] = []

    def update(self, flows: list[object]) -> None:
        self.updated.extend(flows)


class Strict:
    def load(self, loader: Any) -> None:
        loader.add_option("strict_value", int, 1, "must stay below 10")

    def configure(self, updated: set[str]) -> None:
        from mitmproxy import ctx
        if "strict_value" in updated and ctx.options.strict_value >= 10:
            raise exceptions.OptionsError("strict_value must stay below 10")


Manager = Callable[[master.Master], addonmanager.AddonManager]
MANAGERS = {"mitmproxy": addonmanager.AddonManager, "hooktable": HookTable}


def _with(manager: Manager, body: Callable[[master.Master], Any]) -> Any:
    async def run() -> Any:
        m = master.Master(options.Options())
        m.options.changed.disconnect(m.addons._configure_all)
        m.addons = manager(m)
        return await body(m)
    return asyncio.run(run())


@pytest.mark.parametrize("kind", MANAGERS)
def test_each_handler_runs_once_in_chain_order_errors_logged_and_the_next_addon_still_runs(
        kind: str, caplog: pytest.LogCaptureFixture) -> None:
    async def body(m: master.Master) -> list[str]:
        m.addons.add(Recorder("first"), AsyncRecorder("second", fail=ValueError("boom")),
                     Parent(Recorder("child")), Recorder("last"))
        flow = tflow.tflow()
        await m.addons.handle_lifecycle(HttpRequestHook(flow))
        return flow.metadata["seen"]

    with caplog.at_level(logging.ERROR):
        seen = _with(MANAGERS[kind], body)
    assert seen == ["first", "second", "parent", "child", "last"]
    assert "Addon error" in caplog.text and "boom" in caplog.text


@pytest.mark.parametrize("kind", MANAGERS)
def test_addon_halt_stops_the_event_for_the_addons_after_it(kind: str) -> None:
    async def body(m: master.Master) -> list[str]:
        m.addons.add(Recorder("first", fail=exceptions.AddonHalt()), Recorder("second"))
        flow = tflow.tflow()
        await m.addons.handle_lifecycle(HttpRequestHook(flow))
        return flow.metadata["seen"]

    assert _with(MANAGERS[kind], body) == ["first"]


@pytest.mark.parametrize("kind", MANAGERS)
def test_a_refused_option_is_refused_and_the_old_value_kept(kind: str) -> None:
    async def body(m: master.Master) -> int:
        m.addons.add(Strict())
        with pytest.raises(exceptions.OptionsError, match="below 10"):
            m.options.update(strict_value=12)
        m.options.update(strict_value=3)
        return int(m.options.strict_value)

    assert _with(MANAGERS[kind], body) == 3


@pytest.mark.parametrize("kind", MANAGERS)
def test_flow_events_are_followed_by_update_and_a_later_addon_is_called_too(kind: str) -> None:
    async def body(m: master.Master) -> tuple[int, list[str]]:
        updates = Updates()
        m.addons.add(updates)
        flow = tflow.tflow()
        await m.addons.handle_lifecycle(HttpRequestHook(flow))  # builds the table for `request`: no handler
        m.addons.add(Recorder("late"))
        await m.addons.handle_lifecycle(HttpRequestHook(flow))
        await m.addons.trigger_event(hooks.RunningHook())  # not a flow event: no update
        return len(updates.updated), flow.metadata["seen"]

    assert _with(MANAGERS[kind], body) == (2, ["late"])


def test_a_removed_addon_is_no_longer_called() -> None:
    async def body(m: master.Master) -> list[str]:
        gone = Recorder("gone")
        m.addons.add(gone, Recorder("stays"))
        flow = tflow.tflow()
        await m.addons.handle_lifecycle(HttpRequestHook(flow))
        m.addons.remove(gone)
        await m.addons.handle_lifecycle(HttpRequestHook(flow))
        return flow.metadata["seen"]

    assert _with(HookTable, body) == ["gone", "stays", "stays"]


def test_gonogo_runs_master_uses_the_hook_table_and_configures_through_it() -> None:
    async def build() -> tuple[bool, bool]:
        opts = options.Options()
        m = make_master(opts, quiet=True)
        m.addons.add(Strict())
        with pytest.raises(exceptions.OptionsError):
            opts.update(strict_value=99)
        return isinstance(m.addons, HookTable), bool(m.addons.get("proxyserver"))

    assert asyncio.run(build()) == (True, True)
