"""Fuzzing the loader: whatever an admin (or a broken editor) writes, `load_text` either returns a
policy or raises PolicyError whose every problem points at a real place (line and column >= 1).
A crash with any other exception would take the proxy's reload down with a traceback instead."""

from __future__ import annotations

import os
import string
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy_addons.policy import Policy, PolicyError, load_text
from tests.conftest import EXAMPLE_POLICY

EXAMPLE = EXAMPLE_POLICY.read_text("utf-8")
EXAMPLE_LINES = EXAMPLE.splitlines()
BASE = EXAMPLE_POLICY.parent
# GONOGO_FUZZ_EXAMPLES=5000 for a long hunt; the default keeps the suite fast
EXAMPLES = int(os.environ.get("GONOGO_FUZZ_EXAMPLES", "250"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_loads_or_located(text: str, base: Path = BASE) -> None:
    try:
        policy = load_text(text, "fuzz.yaml", base_dir=base)
    except PolicyError as exc:
        assert exc.problems, "PolicyError without problems"
        for problem in exc.problems:
            assert isinstance(problem.file, str) and problem.file
            assert problem.line >= 1 and problem.column >= 1, problem
            assert problem.severity == "error"
            assert problem.message
            if problem.file == "fuzz.yaml":
                assert problem.line <= text.count("\n") + 2, problem
        return
    assert isinstance(policy, Policy)
    for warning in policy.warnings:
        assert warning.line >= 1 and warning.column >= 1


# -- random YAML values in random places ----------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["08:30", "24:00", "25:61", "mon-fri", "fri-mon", "sun", "x", "allow", "timebox", "block",
                     "warn", "day", "week", "include", "social", "interns", "lunch", "work-hours",
                     "Europe/Amsterdam", "Mars/Base", "NL", "XX", "2026-12-24", "2026-02-30", "10.0.0.0/8",
                     "::1/128", "facebook.com", "*.x.com", "http://a/b", "lists/social.txt", "../../etc/passwd",
                     "/dev/null", "", ".", "a..b", "[::1]:443"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "action", "days", "from", "to", "domains", "files", "users", "subnets",
                         "groups", "categories", "when", "quota", "minutes", "per", "pool", "methods", "paths",
                         "shadow", "country", "dates", "x"]) | st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
TOP_KEYS = ["version", "timezone", "holidays", "schedules", "categories", "groups", "rules", "default", "privacy",
            "identity", "bogus"]


@FUZZ
@given(st.dictionaries(st.sampled_from(TOP_KEYS), values, max_size=8))
def test_random_documents(document: dict) -> None:
    assert_loads_or_located(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(st.data())
def test_example_with_random_values_in_random_places(data: st.DataObject) -> None:
    document = yaml.safe_load(EXAMPLE)
    for _ in range(data.draw(st.integers(1, 4))):
        node = document
        path = []
        while isinstance(node, dict | list) and node and data.draw(st.booleans()):
            key = data.draw(st.sampled_from(list(node) if isinstance(node, dict) else list(range(len(node)))))
            path.append(key)
            if not isinstance(node[key], dict | list):
                break
            node = node[key]
        if isinstance(node, dict):
            key = data.draw(st.sampled_from([*node, "extra"]) if node else st.just("extra"))
            node[key] = data.draw(values)
        elif isinstance(node, list) and node:
            node[data.draw(st.integers(0, len(node) - 1))] = data.draw(values)
    assert_loads_or_located(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


# -- mutated text ----------------------------------------------------------------------------------

def _mutate(lines: list[str], data: st.DataObject) -> list[str]:
    op = data.draw(st.sampled_from(["delete", "duplicate", "swap", "value", "insert", "chars", "indent"]))
    if not lines:
        return [data.draw(st.text(max_size=20))]
    i = data.draw(st.integers(0, len(lines) - 1))
    if op == "delete":
        return lines[:i] + lines[i + 1:]
    if op == "duplicate":
        return lines[: i + 1] + lines[i:]
    if op == "swap":
        j = data.draw(st.integers(0, len(lines) - 1))
        lines = list(lines)
        lines[i], lines[j] = lines[j], lines[i]
        return lines
    if op == "value":
        head, sep, _ = lines[i].partition(":")
        value = yaml.safe_dump(data.draw(values), default_flow_style=True, width=10**6).strip()
        value = value.removesuffix("\n...").removesuffix("...").strip()
        return [*lines[:i], f"{head}{sep or ':'} {value}", *lines[i + 1:]]
    if op == "insert":
        return [*lines[:i], data.draw(st.text(max_size=30)), *lines[i:]]
    if op == "indent":
        return [*lines[:i], " " * data.draw(st.integers(0, 6)) + lines[i].lstrip(), *lines[i + 1:]]
    line = lines[i]
    at = data.draw(st.integers(0, len(line)))
    noise = data.draw(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list(":-[]{}#&*!|>'\"%@`,?\t")),
                              max_size=6))
    return [*lines[:i], line[:at] + noise + line[at + data.draw(st.integers(0, 3)):], *lines[i + 1:]]


@FUZZ
@given(st.data())
def test_mutated_example(data: st.DataObject) -> None:
    lines = list(EXAMPLE_LINES)
    for _ in range(data.draw(st.integers(1, 5))):
        lines = _mutate(lines, data)
    assert_loads_or_located("\n".join(lines) + "\n")


@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    assert_loads_or_located(text)


@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_in_a_policy_file(tmp_path_factory: object, raw: bytes) -> None:
    from proxy_addons.policy import load_policy

    directory = tmp_path_factory.mktemp("fuzz")  # type: ignore[attr-defined]
    path = directory / "policy.yaml"
    path.write_bytes(raw)
    try:
        load_policy(path)
    except PolicyError as exc:
        assert all(p.line >= 1 and p.column >= 1 for p in exc.problems)


@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(st.lists(st.text(alphabet=string.printable + "éü\u2028\x00", max_size=30), max_size=20),
       st.binary(max_size=40))
def test_random_domain_list_files(tmp_path_factory: object, lines: list[str], junk: bytes) -> None:
    directory = tmp_path_factory.mktemp("lists")  # type: ignore[attr-defined]
    (directory / "list.txt").write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + junk)
    text = "version: 1\ncategories:\n  c: {files: [list.txt]}\nrules:\n  - {name: r, categories: [c], action: block}\n"
    assert_loads_or_located(text, directory)
