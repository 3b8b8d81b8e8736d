"""A policy file cannot stall or exhaust whoever reads it (the proxy's reloader, `gonogo check`): aliases,
nesting and size are bounded, and only regular files are read. Each refusal is a located error."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from proxy_addons.policy import PolicyError, load_policy, load_text
from proxy_addons.policy.filelimits import MAX_ALIAS_NODES, MAX_DEPTH, MAX_POLICY_BYTES

GOOD = "version: 1\ncategories:\n  social: {domains: [facebook.test]}\nrules:\n  - {name: r, categories: [social], " \
       "action: block}\n"


def laughs(levels: int, width: int = 9) -> str:
    lines = ["version: 1", "x0: &x0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def problems(text: str, filename: str = "p.yaml") -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_text(text, filename)
    return [str(p) for p in caught.value.problems]


def test_billion_laughs_is_refused_at_the_alias_that_crosses_the_limit() -> None:
    found = problems(laughs(9))  # 9**10 values once expanded
    assert len(found) == 1
    line = next(i for i in range(1, 10) if 9 ** (i + 1) > MAX_ALIAS_NODES) + 2  # x{i} sits on line i + 2
    assert found[0].startswith(f"p.yaml:{line}:"), found
    assert f"aliases expand to more than {MAX_ALIAS_NODES} values" in found[0]


def test_aliases_as_policies_use_them_still_load() -> None:
    text = ("version: 1\ncategories:\n  social: {domains: [facebook.test, tiktok.test]}\n"
            "rules:\n  - {name: a, groups: &who [g], categories: &what [social], action: block}\n"
            "  - {name: b, groups: *who, categories: *what, action: warn}\ngroups:\n  g: {users: [ann]}\n")
    policy = load_text(text, "p.yaml")
    assert [r.name for r in policy.rules] == ["a", "b"]


def test_aliases_below_the_limit_are_fine_even_when_nested() -> None:
    assert "values" not in " ".join(problems(laughs(3)))  # 9**4 values: only the schema objects to `x0`


def test_an_alias_inside_its_own_value_is_refused() -> None:
    found = problems("version: 1\na: &a [1, *a]\n")
    assert found == ["p.yaml:2:11: error: YAML: an alias refers to the value that contains it"]


def test_nesting_is_bounded() -> None:
    deep = "version: 1\nx: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    found = problems(deep)
    assert found == [f"p.yaml:2:{3 + MAX_DEPTH}: error: YAML: nested more than {MAX_DEPTH} levels deep"]
    ok = "version: 1\nx: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n"
    assert "nested" not in " ".join(problems(ok))


def test_size_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD + "#" * MAX_POLICY_BYTES)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}:1:1: error: cannot read the policy: the file is larger than 8 MB " \
                                f"({path.stat().st_size} bytes)"


@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_only_regular_files_are_read(tmp_path: Path, kind: str) -> None:
    if kind == "dev-zero":
        path = Path("/dev/zero")
    else:
        path = tmp_path / "policy.yaml"
        os.mkfifo(path)
    result: list[BaseException] = []
    # a FIFO nobody writes to would block a plain open() forever: the thread must come back
    reader = threading.Thread(target=lambda: result.append(_error(path)), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert result, "reading the policy did not return"
    assert isinstance(result[0], PolicyError)
    assert str(result[0]) == f"{path}:1:1: error: cannot read the policy: not a regular file"


def test_a_fifo_as_a_domain_list_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "list.txt")
    (tmp_path / "p.yaml").write_text("version: 1\ncategories:\n  social: {files: [list.txt]}\n"
                                     "rules:\n  - {name: r, categories: [social], action: block}\n")
    result: list[BaseException] = []
    reader = threading.Thread(target=lambda: result.append(_error(tmp_path / "p.yaml")), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert result and "not a regular file" in str(result[0])


def _error(path: Path) -> BaseException:
    try:
        load_policy(path)
    except BaseException as exc:
        return exc
    raise AssertionError("loaded")
