"""`gonogo quota show|grant|reset` as an admin runs it (a real process), on SQLite and on a real Redis:
what it shows is what the proxy's ledger holds for the period the proxy would use."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from proxy_addons.policy import Who, load_policy, period_of
from proxy_addons.usage import open_store, period_ttl
from tests.conftest import EXAMPLE_POLICY, ROOT
from tests.support.redis import RedisServer, free_port, redis_server  # noqa: F401 (fixture)

AT = "2026-11-26T10:00"  # a Thursday in work hours, Amsterdam time
BUDGET = "social time-box"


QUOTA = [str(Path(sys.executable).parent / "gonogo"), "quota"]  # the installed command, as an admin runs it


def quota(*args: str, state: str, cwd: Path, policy: Path = EXAMPLE_POLICY) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QUOTA, *args, "--policy", str(policy), "--state", state, "--at", AT],
                          capture_output=True, text=True, timeout=60, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def shown(state: str, cwd: Path, user: str = "dirk", policy: Path = EXAMPLE_POLICY) -> dict[str, dict[str, object]]:
    done = quota("show", "--user", user, "--json", state=state, cwd=cwd, policy=policy)
    assert done.returncode == 0, done.stderr
    return {b["budget"]: b for b in json.loads(done.stdout)}


def proxy_store(state: str) -> str:
    """Create the store as `gonogo run` does when it starts: admin commands only act on an existing one."""
    async def main() -> None:
        await open_store(state).close()

    asyncio.run(main())
    return state


@pytest.fixture(params=["sqlite", "redis"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        (tmp_path / "var").mkdir()
        return proxy_store(f"sqlite:{tmp_path / 'var' / 'gonogo.db'}")
    server: RedisServer = request.getfixturevalue("redis_server")
    db = 1 + len(request.node.name) % 15  # tests of this module share the server: keep to their own db
    asyncio.run(_flush(server.url, db))
    return server.url.rsplit("/", 1)[0] + f"/{db}"


async def _flush(url: str, db: int) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url.rsplit("/", 1)[0] + f"/{db}")
    await client.flushdb()
    await client.aclose()


def spend(state: str, user: str, minutes: int) -> None:
    """What the proxy does for `minutes` distinct active minutes of `user` at AT."""
    policy = load_policy(EXAMPLE_POLICY)
    now = dt.datetime.fromisoformat(AT).replace(tzinfo=policy.timezone)
    period, resets_at = period_of(policy.budgets[BUDGET], now, policy)
    first = int(now.timestamp() // 60)

    async def main() -> None:
        ledger = open_store(state)
        for m in range(first, first + minutes):
            await ledger.charge(Who(user, None).key, BUDGET, period, m, 30, period_ttl(resets_at, now))
        await ledger.close()

    asyncio.run(main())


def test_show_grant_reset(state: str, tmp_path: Path) -> None:
    assert shown(state, tmp_path)[BUDGET]["used"] == 0
    spend(state, "dirk", 30)
    budget = shown(state, tmp_path)[BUDGET]
    assert (budget["used"], budget["limit"], budget["extra"], budget["left"]) == (30, 30, 0, 0)
    assert (budget["period"], budget["resets_at"]) == ("2026-11-26", "2026-11-27T00:00:00+01:00")

    granted = quota("grant", "--user", "dirk", "--rule", BUDGET, "--minutes", "15", state=state, cwd=tmp_path)
    assert granted.returncode == 0, granted.stderr
    assert "15 extra minutes" in granted.stdout and "2026-11-27 00:00" in granted.stdout
    text = quota("show", "--user", "dirk", state=state, cwd=tmp_path)
    assert text.returncode == 0
    assert BUDGET in text.stdout and "30+15" in text.stdout and "2026-11-27 00:00 CET" in text.stdout
    assert shown(state, tmp_path, "eva")[BUDGET]["used"] == 0  # another person is untouched

    reset = quota("reset", "--user", "dirk", state=state, cwd=tmp_path)
    assert reset.returncode == 0, reset.stderr
    budget = shown(state, tmp_path)[BUDGET]
    assert (budget["used"], budget["extra"]) == (0, 0)


TWO_BUDGETS = """
version: 1
timezone: Europe/Amsterdam
categories:
  social: {domains: [facebook.com]}
  video: {domains: [youtube.com]}
groups:
  interns: {users: [ivo]}
rules:
  - {name: interns watch less, groups: [interns], categories: [video], action: timebox,
     quota: {minutes: 60, per: week}}
  - {name: social, categories: [social], action: timebox, quota: {minutes: 30, per: day}}
default: allow
"""


def test_show_lists_the_budgets_that_apply_to_the_person(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(TWO_BUDGETS)
    state = proxy_store(f"sqlite:{tmp_path / 'g.db'}")
    assert list(shown(state, tmp_path, "dirk", policy)) == ["social"]
    ivo = shown(state, tmp_path, "ivo", policy)
    assert list(ivo) == ["interns watch less", "social"]
    week = ivo["interns watch less"]
    assert (week["per"], week["period"], week["limit"]) == ("week", "week-2026-11-23", 60)
    assert week["resets_at"] == "2026-11-30T00:00:00+01:00"  # Monday


def test_bad_input_is_refused_with_a_reason(tmp_path: Path) -> None:
    state = proxy_store(f"sqlite:{tmp_path / 'g.db'}")
    wrong = quota("grant", "--user", "dirk", "--rule", "lunch is free", "--minutes", "5", state=state, cwd=tmp_path)
    assert wrong.returncode == 2 and "has no time budget" in wrong.stderr
    missing = quota("reset", "--user", "dirk", "--rule", "no such rule", state=state, cwd=tmp_path)
    assert missing.returncode == 2 and "no rule named 'no such rule'" in missing.stderr
    misspelt = quota("grant", "--user", "dirk", "--rule", "social timebox", "--minutes", "5", state=state, cwd=tmp_path)
    assert misspelt.returncode == 2 and "did you mean 'social time-box'?" in misspelt.stderr
    bad_state = quota("show", "--user", "dirk", state="mysql://x", cwd=tmp_path)
    assert bad_state.returncode == 2 and "sqlite:PATH" in bad_state.stderr


def test_an_unreachable_store_is_an_error_not_zeros(tmp_path: Path) -> None:
    done = quota("show", "--user", "dirk", state=f"redis://127.0.0.1:{free_port()}/0", cwd=tmp_path)
    assert done.returncode == 1 and "cannot reach the quota store" in done.stderr and done.stdout == ""


def test_a_store_that_does_not_exist_is_refused_not_created(tmp_path: Path) -> None:
    """A mistyped path or another working directory must not give an empty ledger the proxy never reads."""
    for command in (["show"], ["grant", "--rule", BUDGET, "--minutes", "15"], ["reset"]):
        done = quota(*command, "--user", "dirk", state="sqlite:var/gonogo.db", cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        assert f"no quota store at {tmp_path / 'var' / 'gonogo.db'}" in done.stderr and done.stdout == ""
        assert not (tmp_path / "var").exists()
    requests = subprocess.run([str(Path(sys.executable).parent / "gonogo"), "requests", "list", "--policy",
                               str(EXAMPLE_POLICY), "--state", "sqlite:var/gonogo.db"], capture_output=True, text=True,
                              timeout=60, cwd=tmp_path)
    assert requests.returncode == 1 and "gonogo requests: no quota store at" in requests.stderr
    assert not (tmp_path / "var").exists()


def test_policy_and_store_come_from_the_environment(tmp_path: Path) -> None:
    """GONOGO_POLICY and GONOGO_STATE, set once (the systemd environment file, compose), name what the proxy uses."""
    state = proxy_store(f"sqlite:{tmp_path / 'proxy.db'}")
    spend(state, "dirk", 7)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GONOGO_POLICY": str(EXAMPLE_POLICY), "GONOGO_STATE": state}
    done = subprocess.run([*QUOTA, "show", "--user", "dirk", "--json", "--at", AT], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["used"] == 7
    unset = {k: v for k, v in env.items() if k != "GONOGO_POLICY"}
    done = subprocess.run([*QUOTA, "show", "--user", "dirk"], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, env=unset)
    assert done.returncode == 2 and "GONOGO_POLICY" in done.stderr
    helped = subprocess.run([*QUOTA, "grant", "--help"], capture_output=True, text=True, timeout=60, env=env)
    flowing = " ".join(helped.stdout.split())  # argparse wraps long lines
    assert "default $GONOGO_STATE, now sqlite:" in flowing and "GONOGO_POLICY" in flowing
