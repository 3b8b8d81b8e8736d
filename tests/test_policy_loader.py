"""Loading: every mistake an admin can make is reported as `file:line:column: error: what is wrong`
(with a suggestion where one is close), all of them in one pass, and the shipped JSON Schema stays
the contract that editors check against."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from proxy_addons.policy import PolicyError, load_policy, load_text, schema, yamlsource
from tests.conftest import EXAMPLE_POLICY

HEAD = "version: 1\ncategories:\n  social: {domains: [facebook.com]}\n"


def problems_of(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "policy.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems]


def marked(text: str) -> tuple[str, int, int]:
    """`text` without its « » marker, and the line and column where the marker stood."""
    before = text.split("«")[0]
    return text.replace("«", "").replace("»", ""), before.count("\n") + 1, len(before.rsplit("\n", 1)[-1]) + 1


@pytest.mark.parametrize(("text", "message"), [
    pytest.param(HEAD + "rules:\n  - name: r\n    «categorys: [social]\n    action: allow\n",
                 "unknown key 'categorys' in rule #1; did you mean 'categories'?", id="unknown-key"),
    pytest.param("version: 1\nrules: []\n«timezon: UTC\n",
                 "unknown key 'timezon' in the policy; did you mean 'timezone'?", id="unknown-top-key"),
    pytest.param(HEAD + "rules:\n  - {name: r, categories: [social], action: timebox, "
                        "quota: {minutes: «'30', per: day}}\n",
                 "rule #1 'quota.minutes' must be a whole number, not text '30'", id="wrong-type"),
    pytest.param("version: 1\nrules: «{name: r}\n", "'rules' must be a list, not a mapping", id="wrong-type-container"),
    pytest.param(HEAD + "rules:\n  - {name: r, categories: [social], action: «alow}\n",
                 "rule #1 'action': 'alow' is not one of allow, timebox, block, warn; did you mean 'allow'?",
                 id="bad-enum"),
    pytest.param(HEAD + "groups:\n  interns: {users: [ivo]}\nrules:\n"
                        "  - {name: r, groups: [«intern], categories: [social], action: block}\n",
                 "rule 'r': unknown group 'intern'; did you mean 'interns'?", id="unknown-group"),
    pytest.param(HEAD + "rules:\n  - {name: r, categories: [«socail], action: block}\n",
                 "rule 'r': unknown category 'socail'; did you mean 'social'?", id="unknown-category"),
    pytest.param(HEAD + "schedules:\n  work-hours: [{days: mon-fri, from: '08:30', to: '17:30'}]\nrules:\n"
                        "  - {name: r, categories: [social], when: «work-hour, action: block}\n",
                 "rule 'r': unknown schedule 'work-hour'; did you mean 'work-hours'?", id="unknown-schedule"),
    pytest.param(HEAD + "schedules:\n  s: [{days: mon-fri, from: '08:30', to: «'25:00'}]\nrules: []\n",
                 "schedule 's': bad time '25:00'; hours 00-23, minutes 00-59", id="bad-time"),
    pytest.param(HEAD + "schedules:\n  s: [{days: mon-fri, from: «'8.30', to: '17:00'}]\nrules: []\n",
                 "'schedules.s.0.from': bad time '8.30'; write \"HH:MM\", e.g. \"08:30\"", id="bad-time-shape"),
    pytest.param(HEAD + "schedules:\n  s: [{days: «mon-fry, from: '08:00', to: '17:00'}]\nrules: []\n",
                 "schedule 's': unknown day 'fry'; use mon, tue, wed, thu, fri, sat, sun", id="bad-day"),
    pytest.param("version: 1\ntimezone: «Europe/Amsterdm\nrules: []\n",
                 "unknown time zone 'Europe/Amsterdm'; did you mean 'Europe/Amsterdam'? (use an IANA name such as "
                 "Europe/Amsterdam)", id="bad-zone"),
    pytest.param(HEAD + "rules:\n  - {name: r, categories: [social], action: «timebox}\n",
                 "rule 'r': a timebox needs a quota, e.g. quota: {minutes: 30, per: day}", id="timebox-without-quota"),
    pytest.param(HEAD + "rules:\n  - {name: r, categories: [social], action: block}\n"
                        "  - {name: «r, categories: [social], action: allow}\n",
                 "duplicate rule name 'r' (first used at line 5)", id="duplicate-rule"),
    pytest.param("version: 1\ncategories:\n  social: {files: [«missing.txt]}\nrules: []\n",
                 "cannot read domain list 'missing.txt': No such file or directory", id="unreadable-list"),
    pytest.param("version: 1\ncategories:\n  social: {files: [«.]}\nrules: []\n",
                 "cannot read domain list '.': not a squidGuard/UT1 category directory "
                     "(one holding a 'domains' file)", id="list-is-directory"),
    pytest.param("version: 1\nrules: [\n«", "YAML: expected the node content, but found '<stream end>'",
                 id="yaml-syntax"),
    pytest.param("version: 1\n«version: 1\nrules: []\n", "YAML: duplicate key 'version'", id="duplicate-key"),
    pytest.param("version: «2\nrules: []\n", "'version' must be 1, not 2", id="version"),
    pytest.param("«rules: []\n", "the policy is missing 'version'", id="missing-version"),
    pytest.param("«", "the policy is empty; it starts with 'version: 1'", id="empty"),
    pytest.param(HEAD + "rules:\n  - {name: r, categories: [social], action: block, «quota: {minutes: 5, per: day}}\n",
                 "rule 'r': quota only applies to action timebox, not block", id="quota-on-block"),
    pytest.param(HEAD + "rules:\n  - {name: a, categories: [social], action: timebox, quota: {minutes: 5, per: day, "
                        "pool: p}}\n  - {name: b, categories: [social], action: timebox, quota: «{minutes: 9, per: "
                        "day, pool: p}}\n",
                 "rule 'b': pool 'p' is 5 minutes per day at line 5; rules sharing a pool must agree",
                 id="pool-disagrees"),
    pytest.param("version: 1\ngroups:\n  g: {subnets: [«10.0.0.300/8]}\nrules: []\n",
                 "group 'g': '10.0.0.300/8' is not a subnet like 10.20.0.0/16", id="bad-subnet"),
    pytest.param("version: 1\ncategories:\n  c: {domains: [«'http://x.com/a']}\nrules: []\n",
                 "category 'c': 'http://x.com/a' is a URL or path; write just the domain, e.g. facebook.com",
                 id="url-as-domain"),
    pytest.param("version: 1\nholidays: {country: «XX}\nrules: []\n", "holidays: Country XX not available",
                 id="bad-country"),
    pytest.param("version: 1\nholidays: {dates: [«2026-02-30]}\nrules: []\n", "bad date '2026-02-30'; write YYYY-MM-DD",
                 id="bad-date"),
    pytest.param(HEAD + "rules:\n  - {name: r, categories: [social], when: «[], action: allow}\n",
                 "rule #1 'when' needs at least one name", id="empty-when"),
])
def test_each_kind_of_error_is_located_and_explained(tmp_path: Path, text: str, message: str) -> None:
    text, line, column = marked(text)
    assert f"policy.yaml:{line}:{column}: error: {message}" in problems_of(text, tmp_path)


def test_all_errors_of_a_file_come_in_one_pass(tmp_path: Path) -> None:
    text = ("version: 1\ntimezone: Mars/Base\ncategories:\n  social: {domains: [facebook.com], files: [nope.txt]}\n"
            "rules:\n  - {name: r, categories: [socail], action: block}\n  - {name: r, categories: [social], "
            "action: timebox}\n")
    found = problems_of(text, tmp_path)
    assert [p.split(": error: ")[0] for p in found] == [
        "policy.yaml:2:11", "policy.yaml:4:45", "policy.yaml:6:28", "policy.yaml:7:12", "policy.yaml:7:45"]


def test_unreachable_rule_and_other_warnings_never_fail(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(HEAD + "  empty: {domains: []}\ngroups:\n  g: {users: [a]}\nrules:\n"
                    "  - {name: all social, categories: [social], action: block}\n"
                    "  - {name: later, groups: [g], categories: [social], action: allow}\n"
                    "  - {name: everything, action: warn}\n"
                    "  - {name: after everything, domains: [x.com], action: block}\n", "utf-8")
    policy = load_policy(path)
    assert [str(w).replace(str(tmp_path) + "/", "") for w in policy.warnings] == [
        "w.yaml:4:3: warning: category 'empty' has no domains",
        "w.yaml:9:1: warning: rule 'later' can never match: rule 'all social' (line 8) always decides first",
        "w.yaml:10:5: warning: rule 'everything' names no categories or domains, so it covers every host "
        "(no traffic can pass through undecrypted)",
        "w.yaml:11:1: warning: rule 'after everything' can never match: rule 'everything' (line 10) always "
        "decides first",
    ]


def test_rules_that_only_look_alike_are_not_reported_unreachable() -> None:
    policy = load_text(HEAD + "schedules: {s: [{days: mon, from: '09:00', to: '10:00'}]}\n"
                              "groups: {g: {users: [a]}}\nrules:\n"
                              "  - {name: in s, categories: [social], when: s, action: block}\n"
                              "  - {name: for g, groups: [g], categories: [social], action: block}\n"
                              "  - {name: posts, categories: [social], methods: [POST], action: block}\n"
                              "  - {name: trial, categories: [social], action: block, shadow: true}\n"
                              "  - {name: rest, categories: [social], action: allow}\n", "ok.yaml")
    assert policy.warnings == ()


def test_yaml_11_surprises_are_not_made(tmp_path: Path) -> None:
    # `no` is not false and 17:30 is not 1050 in a policy
    policy = load_text(HEAD + "groups:\n  no: {users: [yes, off]}\nschedules:\n  s: [{days: mon, from: '08:00', "
                              "to: '17:30'}]\nrules:\n  - {name: r, groups: [no], categories: [social], "
                              "action: block}\n", "y.yaml")
    assert "no" in policy.groups and policy.groups["no"].users == {"yes", "off"}
    unquoted = load_text(HEAD + "schedules:\n  s: [{days: mon, from: 08:00, to: 17:30}]\nrules: []\n", "q.yaml")
    assert unquoted.schedules["s"].windows[0].start == 480 and unquoted.schedules["s"].windows[0].end == 1050


def test_policy_identity_covers_its_list_files(tmp_path: Path) -> None:
    (tmp_path / "l.txt").write_text("a.test\n")
    text = "version: 1\ncategories:\n  c: {files: [l.txt]}\nrules: []\n"
    first = load_text(text, "p.yaml", tmp_path).sha256
    assert load_text(text, "p.yaml", tmp_path).sha256 == first
    (tmp_path / "l.txt").write_text("b.test\n")
    assert load_text(text, "p.yaml", tmp_path).sha256 != first


def test_unreadable_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path}/nope.yaml:1:1: error: cannot read the policy: No such file or directory"


def test_example_validates_against_the_shipped_schema_directly() -> None:
    # read as editors do (YAML 1.2: dates and times stay text), into plain JSON types
    document = json.loads(json.dumps(yamlsource.parse(EXAMPLE_POLICY.read_text("utf-8"))))
    shipped = json.loads((Path(__file__).parent.parent / "proxy_addons/policy/schema.json").read_text("utf-8"))
    assert shipped == schema()
    jsonschema.Draft202012Validator.check_schema(shipped)
    jsonschema.validate(document, shipped, cls=jsonschema.Draft202012Validator)
    assert EXAMPLE_POLICY.read_text("utf-8").startswith("# yaml-language-server: $schema=../proxy_addons/policy/")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**document, "rules": [{"name": "x", "action": "maybe"}]}, shipped)


def test_example_loads_clean() -> None:
    policy = load_policy(EXAMPLE_POLICY)
    assert policy.warnings == ()
    assert [r.name for r in policy.rules] == [
        "social team runs our channels", "no posting from interns", "corporate news on LinkedIn", "lunch is free",
        "tiktok trial", "social time-box", "news needs a reason"]
    assert policy.categories["social"].domain_count == 20


def test_names_the_metrics_reserve_are_refused(tmp_path: Path) -> None:
    found = problems_of(
        "version: 1\ncategories:\n  none: {domains: [a.com]}\ngroups:\n  other: {users: [x]}\n"
        "rules:\n  - {name: default, categories: [none], action: block}\n", tmp_path)
    assert [p.split(": error: ")[0].rsplit(":", 2)[-2:] for p in found] == [["3", "3"], ["5", "3"], ["7", "12"]]
    assert all("reserved for the metrics" in p for p in found)
