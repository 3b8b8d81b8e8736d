"""Shared test set-up: paths, the origin server every end-to-end test sends its traffic to, and what makes an
interrupted run end cleanly. Other fixtures that start servers live in tests/support/."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from tests.support import processes
from tests.support.proxy import Origin, make_cert

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_POLICY = ROOT / "policies" / "example.yaml"


def _terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (a CI job cancelled, `kill`) stops the run like Ctrl-C does: as KeyboardInterrupt, which pytest
    treats as "stop now" and which unwinds every `finally` and fixture finaliser, so the servers tests started
    are stopped. The default action would end pytest at once and leave them running."""
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def pytest_configure(config: pytest.Config) -> None:
    signal.signal(signal.SIGTERM, _terminated)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Whatever a test started and did not stop (interrupted before its `try`, say) ends with the session."""
    processes.end_all()


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Origin]:
    """An HTTP and HTTPS origin on 127.0.0.1 that records what reaches it (see tests/support/proxy.py)."""
    cert, key = make_cert(tmp_path_factory.mktemp("origin"))
    server = Origin(cert, key).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_gonogo_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`gonogo` commands take defaults from GONOGO_POLICY, GONOGO_STATE, ... (cli/settings.py): a developer's
    own settings must not change what a test runs. Tests that are about them set them themselves."""
    for name in ("GONOGO_POLICY", "GONOGO_STATE", "GONOGO_STATE_DIR", "GONOGO_CONFDIR"):
        monkeypatch.delenv(name, raising=False)
