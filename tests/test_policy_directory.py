"""Directory groups and group files in the policy, without a directory: name normalisation, the loader's
checks (file:line errors), the engine merging the groups the gateway supplies, and what check, explain and the
notice say about them."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from proxy_addons.policy import PolicyError, Request, Who, evaluate, load_policy, load_text
from proxy_addons.policy.describe import explain_text, summarise
from proxy_addons.policy.names import dn_key, normalize_user
from proxy_addons.tools.notice import render_notice

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)

POLICY = """\
version: 1
identity:
  directory:
    url: ldap://dc1.example.com
    bind_dn: cn=gonogo,ou=services,dc=example,dc=com
    password_file: ldap-password
    base_dn: dc=example,dc=com
    user_filter: "(sAMAccountName={user})"
    refresh: 10m
    timeout: 5s
categories:
  social: {domains: [facebook.com]}
groups:
  social-team: {directory: "cn=Social Team,ou=Groups,dc=example,dc=com"}
  sales: {file: groups/sales.txt, users: [Zoe]}
rules:
  - name: social team may
    groups: [social-team]
    categories: [social]
    action: allow
  - name: sales may
    groups: [sales]
    categories: [social]
    action: allow
  - name: no social
    categories: [social]
    action: block
"""


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    (tmp_path / "ldap-password").write_text("secret\n")
    (tmp_path / "groups").mkdir()
    (tmp_path / "groups" / "sales.txt").write_text("# sales team\nBob\nEXAMPLE\\carol  # the lead\n\nDan@EXAMPLE.COM\n")
    (tmp_path / "policy.yaml").write_text(POLICY)
    return tmp_path


@pytest.mark.parametrize("name", ["anna", "Anna", "ANNA", "EXAMPLE\\anna", "example\\ANNA", "anna@EXAMPLE.COM",
                                  " anna ", "CORP\\sub\\anna"])
def test_the_common_forms_of_a_name_are_one_person(name: str) -> None:
    assert normalize_user(name) == "anna"


def test_distinguished_names_compare_as_ldap_does() -> None:
    assert dn_key("CN=Social Team, OU=Groups,DC=Example , DC=com") == \
        dn_key("cn=social team,ou=groups,dc=example,dc=com")
    assert dn_key("cn=a\\, b,dc=x").startswith("cn=a\\, b")  # an escaped comma stays part of the value


def test_directory_settings_and_group_sources_load(policy_dir: Path) -> None:
    policy = load_policy(policy_dir / "policy.yaml")
    d = policy.identity.directory
    assert d is not None
    assert (d.url, d.base_dn, d.user_attribute, d.refresh, d.timeout, d.membership, d.starttls) == (
        "ldap://dc1.example.com", "dc=example,dc=com", "sAMAccountName", 600.0, 5.0, "auto", False)
    assert d.password_file == str((policy_dir / "ldap-password").resolve())
    assert "secret" not in repr(policy.identity)  # the password itself never enters the policy
    assert policy.groups["social-team"].directory == "cn=Social Team,ou=Groups,dc=example,dc=com"
    assert policy.groups["sales"].users == {"bob", "carol", "dan", "zoe"}
    assert policy.groups["sales"].file_users == {"bob", "carol", "dan"}


def test_a_group_file_change_changes_the_policy_identity(policy_dir: Path) -> None:
    before = load_policy(policy_dir / "policy.yaml")
    (policy_dir / "groups" / "sales.txt").write_text("bob\n")
    after = load_policy(policy_dir / "policy.yaml")
    assert before.sha256 != after.sha256
    assert after.groups["sales"].users == {"bob", "zoe"}


def test_people_are_matched_whatever_form_their_name_takes(policy_dir: Path) -> None:
    policy = load_policy(policy_dir / "policy.yaml")
    for name in ("carol", "CORP\\Carol", "carol@example.com", "ZOE"):
        assert policy.groups_of(normalize_user(name)) == ("sales",), name
    assert policy.groups_of("Carol") == ("sales",)  # the policy normalises a name it is asked about too


def test_directory_groups_are_an_input_the_engine_merges(policy_dir: Path) -> None:
    policy = load_policy(policy_dir / "policy.yaml")
    request = Request("facebook.com")
    assert evaluate(policy, Who("anna"), request, NOW).decision == "block"
    decision = evaluate(policy, Who("anna", None, ("social-team",)), request, NOW)
    assert (decision.decision, decision.rule, decision.group) == ("allow", "social team may", "social-team")
    # groups are reported in file order, whatever the order the gateway gives them in
    assert policy.groups_of("bob", None, ("social-team",)) == ("social-team", "sales")
    assert policy.groups_of("bob", None, ("sales", "no-such-group")) == ("sales",)


def test_explain_says_where_each_group_comes_from(policy_dir: Path) -> None:
    policy = load_policy(policy_dir / "policy.yaml")
    who = Who("carol", "10.0.0.1", ("social-team",))
    trace: list = []
    decision = evaluate(policy, who, Request("facebook.com"), NOW, trace=trace)
    out = explain_text(policy, who, Request("facebook.com"), NOW, decision, trace, "facebook.com")
    assert "groups: social-team, sales (primary social-team)" in out
    assert ("membership  social-team: member of cn=Social Team,ou=Groups,dc=example,dc=com in the directory; "
            "sales: listed in groups/sales.txt") in out


def test_check_summarises_the_directory_and_group_sources(policy_dir: Path) -> None:
    out = summarise(load_policy(policy_dir / "policy.yaml"))
    assert "social-team: directory group cn=Social Team,ou=Groups,dc=example,dc=com" in out
    assert "sales: 1 user, group file groups/sales.txt (3 users)" in out
    assert ("directory   groups from ldap://dc1.example.com (base dc=example,dc=com, people (sAMAccountName={user}), "
            "membership auto); read again every 10 minutes, each answer within 5 seconds") in out


@pytest.mark.parametrize("lang, sentence", [
    ("en", "Groups named after the company directory follow from your account there"),
    ("nl", "Groepen uit de bedrijfsdirectory volgen uit je account daar"),
])
def test_the_notice_says_groups_come_from_the_directory(policy_dir: Path, lang: str, sentence: str) -> None:
    out = render_notice(load_policy(policy_dir / "policy.yaml"), lang, "md")
    assert sentence in out
    assert "cn=" not in out  # no directory internals for employees


def _errors(text: str, base: Path) -> list[str]:
    with pytest.raises(PolicyError) as exc:
        load_text(text, str(base / "p.yaml"), base_dir=base)
    return [str(p) for p in exc.value.problems]


def test_bad_directory_settings_are_reported_at_their_line(policy_dir: Path) -> None:
    text = POLICY.replace("url: ldap://dc1.example.com", "url: http://dc1.example.com") \
        .replace('user_filter: "(sAMAccountName={user})"', 'user_filter: "(sAMAccountName=anna)"') \
        .replace("refresh: 10m", "refresh: soon") \
        .replace("password_file: ldap-password", "password_file: missing-password")
    errors = _errors(text, policy_dir)
    assert any(":4:10: error: identity.directory: url 'http://dc1.example.com'" in e for e in errors), errors
    assert any(":8:18: error: identity.directory: user_filter" in e for e in errors), errors
    assert any(":9:14: error: identity.directory: refresh: 'soon' is not a duration" in e for e in errors), errors


def test_an_unreadable_password_file_is_a_warning(policy_dir: Path) -> None:
    """`gonogo check` may run as someone who cannot read the proxy's secret; the proxy logs the warning too."""
    policy = load_text(POLICY.replace("password_file: ldap-password", "password_file: missing-password"),
                       str(policy_dir / "p.yaml"), base_dir=policy_dir)
    assert [str(w).split("p.yaml:", 1)[1] for w in policy.warnings] == [
        "6:20: warning: identity.directory: cannot read password_file 'missing-password': No such file or "
        "directory (the proxy cannot bind until it can)"]


def test_more_directory_mistakes(policy_dir: Path) -> None:
    text = POLICY.replace("    password_file: ldap-password\n", "") \
        .replace("timeout: 5s", "timeout: 5s\n    starttls: true") \
        .replace("ldap://dc1.example.com", "ldaps://dc1.example.com") \
        .replace('{directory: "cn=Social Team,ou=Groups,dc=example,dc=com"}', '{directory: "Social Team"}')
    errors = _errors(text, policy_dir)
    assert any("bind_dn and password_file go together" in e for e in errors), errors
    assert any(":10:15: error: identity.directory: starttls is for ldap:// urls" in e for e in errors), errors
    assert any(":14:28: error: group 'social-team': directory: 'Social Team' is not a distinguished name" in e
               for e in errors), errors


def test_a_directory_group_needs_a_directory(policy_dir: Path) -> None:
    text = POLICY.split("categories:", 1)[1]
    errors = _errors("version: 1\ncategories:" + text, policy_dir)
    assert any(":5:28: error: group 'social-team' is read from the directory, but identity.directory is not set"
               in e for e in errors), errors


def test_group_file_problems_name_the_file_and_line(policy_dir: Path) -> None:
    (policy_dir / "groups" / "sales.txt").write_text("bob\nanna smith\n")
    errors = _errors(POLICY, policy_dir)
    assert any(e.endswith("sales.txt:2:1: error: group 'sales': 'anna smith' is not one user name (one per line)")
               for e in errors), errors
    os.remove(policy_dir / "groups" / "sales.txt")
    errors = _errors(POLICY, policy_dir)
    assert any(":15:17: error: group 'sales': cannot read group file 'groups/sales.txt': No such file" in e
               for e in errors), errors


def test_the_schema_knows_the_directory_keys(policy_dir: Path) -> None:
    errors = _errors(POLICY.replace("timeout: 5s", "timeout: 5s\n    pasword: x"), policy_dir)
    assert any("pasword" in e for e in errors), errors
    errors = _errors(POLICY.replace("refresh: 10m", "refresh: 10m\n    membership: nested"), policy_dir)
    assert any("membership" in e for e in errors), errors
