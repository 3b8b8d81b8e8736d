"""Shared test set-up: paths, and the origin server every end-to-end test sends its traffic to.
Other fixtures that start servers live in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.proxy import Origin, make_cert

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_POLICY = ROOT / "policies" / "example.yaml"


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
