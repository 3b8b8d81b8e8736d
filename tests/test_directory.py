"""The directory client, the membership cache and the gateway's directory addon against a real OpenLDAP
`slapd` (tests/support/ldap.py): nested groups, a disabled account, missing groups, bounded timeouts, the
directory going down and coming back, a reload that reconnects, and the command line (`check --online`,
`explain --user`)."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy_addons.directory import DirectoryClient, DirectoryError, Membership
from proxy_addons.gateway.directory import DirectoryGroups
from proxy_addons.gateway.reloader import PolicyWatcher
from proxy_addons.gateway.state import GatewayState
from proxy_addons.policy import Policy, load_policy
from proxy_addons.policy.directory import Directory
from proxy_addons.policy.names import dn_key
from tests.support.ldap import (
    BASE_DN,
    GROUPS,
    INTERNS,
    PEOPLE,
    SALES,
    SERVICE_DN,
    SERVICE_PW,
    SOCIAL,
    SlapdServer,
)
from tests.support.proxy import GONOGO

FILTER = "(&(uid={user})(!(employeeType=disabled)))"
MISSING = f"cn=Nobody,{GROUPS}"

POLICY = """\
version: 1
identity:
  directory:
    url: {url}
    bind_dn: {service}
    password_file: pw
    base_dn: {base}
    user_filter: "{filter}"
    refresh: {refresh}
    timeout: 1s
categories:
  social: {{domains: [facebook.test]}}
groups:
  social-team: {{directory: "{social}"}}
  interns: {{directory: "{interns}"}}
  sales: {{directory: "{sales}", file: local-sales.txt}}
rules:
  - name: social team may
    groups: [social-team]
    categories: [social]
    action: allow
  - name: no social
    categories: [social]
    action: block
"""


@pytest.fixture(scope="module")
def slapd() -> Iterator[SlapdServer]:
    with tempfile.TemporaryDirectory(prefix="gonogo-slapd-") as d, SlapdServer(Path(d)) as server:
        yield server


@pytest.fixture
def up(slapd: SlapdServer) -> Iterator[SlapdServer]:
    """The module's slapd, running and unpaused whatever the test did to it."""
    yield slapd
    if slapd.process is None:
        slapd.start()
    else:
        slapd.resume()


def settings(slapd: SlapdServer, tmp_path: Path, **changes: object) -> Directory:
    (tmp_path / "pw").write_text(SERVICE_PW + "\n")
    base = Directory(slapd.url, BASE_DN, FILTER, "uid", SERVICE_DN, str(tmp_path / "pw"), 3600.0, 1.0)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def write_policy(slapd: SlapdServer, tmp_path: Path, refresh: str = "1h") -> Path:
    (tmp_path / "pw").write_text(SERVICE_PW + "\n")
    (tmp_path / "local-sales.txt").write_text("zoe\n")
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.format(url=slapd.url, service=SERVICE_DN, base=BASE_DN, filter=FILTER, refresh=refresh,
                                  social=SOCIAL, interns=INTERNS, sales=SALES))
    return path


def test_members_of_named_groups_nested_included_disabled_left_out(up: SlapdServer, tmp_path: Path) -> None:
    client = DirectoryClient(settings(up, tmp_path))
    try:
        assert client.strategy() == "member"  # auto: OpenLDAP is no Active Directory
        reports = {dn_key(r.dn): r.members for r in client.groups([SOCIAL, INTERNS, SALES, MISSING])}
    finally:
        client.close()
    assert reports == {
        dn_key(SOCIAL): {"anna", "carol"},  # carol through the nested Interns; dave is disabled
        dn_key(INTERNS): {"carol"},
        dn_key(SALES): {"bob"},
        dn_key(MISSING): None,
    }


@pytest.mark.parametrize("name, groups", [
    ("anna", {SOCIAL}), ("EXAMPLE\\Carol", {SOCIAL, INTERNS}), ("bob@example.com", {SALES}),
    ("dave", set()), ("erik", set()), ("nobody", set()), ("*", set()),
])
def test_one_persons_groups(up: SlapdServer, tmp_path: Path, name: str, groups: set[str]) -> None:
    client = DirectoryClient(settings(up, tmp_path))
    try:
        assert client.user_groups(name, [SOCIAL, INTERNS, SALES]) == {dn_key(g) for g in groups}
    finally:
        client.close()


def test_a_wrong_password_or_base_is_a_clear_error(up: SlapdServer, tmp_path: Path) -> None:
    (tmp_path / "bad").write_text("not-the-password\n")
    client = DirectoryClient(settings(up, tmp_path, password_file=str(tmp_path / "bad")))
    with pytest.raises(DirectoryError, match=r"bind as cn=gonogo.* refused: invalidCredentials"):
        client.groups([SOCIAL])
    client = DirectoryClient(settings(up, tmp_path, base_dn="dc=elsewhere,dc=com"))
    assert client.user_groups("anna", [SOCIAL]) == frozenset()  # no such base: nobody found
    client.close()


def test_a_frozen_directory_is_given_up_on_within_the_timeout(up: SlapdServer, tmp_path: Path) -> None:
    client = DirectoryClient(settings(up, tmp_path, timeout=1.0))
    client.groups([SALES])  # connected
    up.pause()  # accepts connections, never answers
    with pytest.raises(DirectoryError, match=r"timed out|Timeout|timeout"):
        client.groups([SALES])
    up.resume()
    assert [r.members for r in client.groups([SALES])] == [{"bob"}]  # the same client recovers
    client.close()


def test_membership_refresh_outage_and_recovery(up: SlapdServer, tmp_path: Path) -> None:
    policy = load_policy(write_policy(up, tmp_path))
    results: list[bool] = []

    async def scenario() -> None:
        membership = Membership(policy.identity.directory, on_refresh=results.append)  # type: ignore[arg-type]
        membership.use(policy)
        assert membership.groups("anna") == ()  # nothing known before the first refresh; never waits
        assert await membership.refresh()
        assert membership.available is True
        assert membership.groups("anna") == ("social-team",)
        assert membership.groups("carol") == ("social-team", "interns")  # in file order
        up.stop()
        assert not await membership.refresh()
        assert membership.available is False
        assert membership.groups("carol") == ("social-team", "interns")  # the last known membership stays
        up.start()
        assert await membership.refresh()
        assert membership.available is True
        await membership.stop()

    asyncio.run(scenario())
    assert results == [True, False, True]


def test_an_unknown_person_is_looked_up_once_in_the_background(up: SlapdServer, tmp_path: Path) -> None:
    policy = load_policy(write_policy(up, tmp_path))
    member = f"uid=erik,{PEOPLE}"

    async def scenario() -> None:
        membership = Membership(policy.identity.directory)  # type: ignore[arg-type]
        membership.use(policy)
        assert await membership.refresh()
        up.modify(f"dn: {SALES}\nchangetype: modify\nadd: member\nmember: {member}\n")
        try:
            assert membership.groups("erik") == ()  # last known answer at once; a look-up is scheduled
            assert len(membership._pending) == 1
            await asyncio.gather(*membership._pending)
            assert membership.groups("erik") == ("sales",)
            assert membership.groups("bob") == ("sales",)
            membership.groups("nobody")
            membership.groups("nobody")  # asked once only
            assert len(membership._pending) == 1
            await asyncio.gather(*membership._pending)
        finally:
            up.modify(f"dn: {SALES}\nchangetype: modify\ndelete: member\nmember: {member}\n")
            await membership.stop()

    asyncio.run(scenario())


def test_a_reload_with_other_directory_settings_reconnects(up: SlapdServer, tmp_path: Path) -> None:
    path = write_policy(up, tmp_path)
    first = load_policy(path)
    same = load_policy(path)
    path.write_text(path.read_text().replace("timeout: 1s", "timeout: 2s"))
    changed = load_policy(path)

    async def scenario() -> None:
        state = GatewayState()
        addon = DirectoryGroups(state)
        state.install(first)
        assert state.directory is None  # not before the proxy runs
        addon.running()
        membership = state.directory
        assert membership is not None
        assert await membership.refresh()
        state.install(same)
        assert state.directory is membership  # same settings: same connection, groups updated
        state.install(changed)
        assert state.directory is not membership and state.directory is not None
        assert state.directory.settings.timeout == 2.0
        assert state.directory.groups("anna") == ("social-team",)  # starts from the last known membership
        await addon.done()
        assert state.directory is None

    asyncio.run(scenario())


def test_a_changed_group_file_reloads_the_policy(up: SlapdServer, tmp_path: Path) -> None:
    path = write_policy(up, tmp_path)
    policy = load_policy(path)
    loaded: list[Policy] = []

    async def scenario() -> None:
        watcher = PolicyWatcher(path, policy, 3600, on_good=loaded.append, on_bad=lambda exc: None)
        (tmp_path / "local-sales.txt").write_text("zoe\nyara\n")
        await watcher.check()

    asyncio.run(scenario())
    assert [p.groups["sales"].users for p in loaded] == [{"zoe", "yara"}]


def gonogo(*args: str | Path) -> subprocess.CompletedProcess[str]:
    exe = str(GONOGO) if GONOGO.exists() else shutil.which("gonogo")
    assert exe
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=60)


def test_check_online_counts_members_and_finds_missing_groups(up: SlapdServer, tmp_path: Path) -> None:
    path = write_policy(up, tmp_path)
    done = gonogo("check", path, "--online")
    assert done.returncode == 0, done.stderr
    assert f"online      {up.url}: bound as {SERVICE_DN}; membership read by member" in done.stdout
    assert f"social-team: 2 members ({SOCIAL})" in done.stdout
    assert f"interns: 1 member ({INTERNS})" in done.stdout
    path.write_text(path.read_text().replace(INTERNS, MISSING))
    done = gonogo("check", path, "--online")
    assert done.returncode == 1
    assert f"interns: the directory has no group {MISSING}" in done.stdout
    up.stop()
    done = gonogo("check", path, "--online")
    assert done.returncode == 1
    assert f"{up.url}: cannot check the directory:" in done.stdout
    assert gonogo("check", path).returncode == 0  # offline the settings are only checked


def test_explain_asks_the_directory_unless_offline(up: SlapdServer, tmp_path: Path) -> None:
    path = write_policy(up, tmp_path)
    done = gonogo("explain", path, "--user", "EXAMPLE\\Carol", "--url", "https://facebook.test/")
    assert done.returncode == 0, done.stderr
    assert "decision    ALLOW" in done.stdout
    assert "who         carol; groups: social-team, interns (primary social-team)" in done.stdout
    assert f"membership  social-team: member of {SOCIAL} in the directory;" in done.stdout
    done = gonogo("explain", path, "--user", "carol", "--url", "https://facebook.test/", "--offline")
    assert "decision    BLOCK" in done.stdout
    assert "directory not asked (--offline)" in done.stderr
    done = gonogo("explain", path, "--user", "zoe", "--url", "https://facebook.test/")
    assert "membership  sales: listed in local-sales.txt" in done.stdout
    up.stop()
    done = gonogo("explain", path, "--user", "carol", "--url", "https://facebook.test/")
    assert done.returncode == 0
    assert "decision    BLOCK" in done.stdout
    assert "directory unreachable" in done.stderr


def test_proxy_logins_against_the_directory_survive_its_restart(up: SlapdServer) -> None:
    from proxy_addons.gateway.ldapauth import DirectoryLogin

    login = DirectoryLogin(f"ldap:127.0.0.1:{up.port}:{SERVICE_DN}:{SERVICE_PW}:{PEOPLE}?search_filter_key=uid",
                           timeout=1.0)
    assert login("anna", "secret-anna")
    assert login("ANNA", "secret-anna")  # the directory compares uid case-insensitively
    assert not login("anna", "secret-bob")
    assert not login("*", "secret-anna")  # the name is escaped: no wildcard search
    assert not login("dave", "anything")  # disabled: no password
    up.stop()
    assert not login("anna", "secret-anna")  # cannot be checked: refused
    up.start()
    assert login("anna", "secret-anna")  # and back, without a restart
    up.pause()
    assert not login("bob", "secret-bob")  # a frozen directory: refused within the timeout


def test_the_memberof_strategy(up: SlapdServer, tmp_path: Path) -> None:
    """`memberOf` as Active Directory and OpenLDAP's memberof overlay keep it (direct members only)."""
    readers = f"cn=Readers,{GROUPS}"
    up.modify(f"dn: {readers}\nchangetype: add\nobjectClass: groupOfNames\ncn: Readers\n"
              f"member: uid=anna,{PEOPLE}\nmember: uid=dave,{PEOPLE}\nmember: {INTERNS}\n")
    client = DirectoryClient(settings(up, tmp_path, membership="memberOf"))
    try:
        assert client.strategy() == "memberOf"
        assert [r.members for r in client.groups([readers, MISSING])] == [{"anna"}, None]  # no nesting, no dave
        assert client.user_groups("Anna", [readers, SOCIAL]) == {dn_key(readers)}
    finally:
        client.close()
        up.modify(f"dn: {readers}\nchangetype: delete\n")
