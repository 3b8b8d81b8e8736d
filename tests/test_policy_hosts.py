"""Host names: a client must not slip past a rule by writing a host differently, and the domain index
must answer the same whichever way a name was written, for every size of list."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy_addons.policy import BadHost, PolicyError, Request, Who, evaluate, load_policy, load_text, normalize_host
from proxy_addons.policy.hosts import DomainIndex

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).filter(
    lambda s: not s.startswith("-") and not s.endswith("-"))
domain = st.lists(label, min_size=1, max_size=4).map(".".join)
unicode_label = st.sampled_from(["bücher", "münchen", "пример", "例え", "ελληνικά", "straße", "café"])
port = st.integers(1, 65535)

POLICY = """
version: 1
categories:
  social: {domains: [facebook.com, "bücher.example", "xn--mnchen-3ya.de", "[2001:db8::1]", 192.0.2.7]}
rules:
  - {name: block social, categories: [social], action: block}
"""
MONDAY_NOON = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def policy():
    return load_text(POLICY, "hosts.yaml")


def variants(name: str, draw_port: int) -> list[str]:
    """Ways a client may write the same host."""
    return [name, name.upper(), name.title(), name + ".", f"{name}:{draw_port}", f"{name.upper()}.:{draw_port}",
            f"  {name}  "]


@given(domain, port)
def test_normalise_is_idempotent_and_ignores_case_dot_and_port(name: str, p: int) -> None:
    canonical = normalize_host(name)
    assert canonical == name.lower()
    for variant in variants(name, p):
        once = normalize_host(variant)
        assert once == canonical
        assert normalize_host(once) == once


@given(unicode_label, domain, port)
def test_idn_becomes_punycode(uni: str, rest: str, p: int) -> None:
    name = f"{uni}.{rest}"
    expected = name.encode("idna").decode("ascii")
    for variant in (name, name.upper(), name + ".", f"{name}:{p}", expected, expected.upper()):
        assert normalize_host(variant) == expected
    assert normalize_host(expected).isascii()


@given(st.ip_addresses(v=6), port)
def test_bracketed_ipv6(address, p: int) -> None:
    canonical = address.compressed
    for variant in (f"[{address.exploded}]", f"[{canonical}]:{p}", canonical, address.exploded.upper(),
                    f"[{canonical.upper()}]"):
        assert normalize_host(variant) == canonical


@pytest.mark.parametrize("bad", ["", ".", "a..b", ".a", "[::1", "[zz::1]", "a:b", "bad\udcffname.com"])
def test_bad_hosts_are_refused(bad: str) -> None:
    with pytest.raises(BadHost):
        normalize_host(bad)


@settings(max_examples=60)
@given(st.sampled_from(["facebook.com", "www.facebook.com", "m.facebook.com", "BÜCHER.example", "shop.bücher.example",
                        "münchen.de", "www.xn--mnchen-3ya.de"]), port)
def test_matching_agrees_for_every_variant(policy, host: str, p: int) -> None:
    decisions = set()
    for variant in variants(host, p):
        decision = evaluate(policy, Who("u"), Request(normalize_host(variant)), MONDAY_NOON)
        decisions.add((decision.decision, decision.rule, decision.category))
    assert decisions == {("block", "block social", "social")}


@pytest.mark.parametrize("url", ["https://[2001:db8::1]:8443/x", "http://[2001:0DB8:0:0::1]/", "192.0.2.7:80",
                                 "https://user@FACEBOOK.COM.:443/path?q=1"])
def test_urls_with_literals_and_credentials(policy, url: str) -> None:
    assert evaluate(policy, Who("u"), Request.from_url(url), MONDAY_NOON).decision == "block"


@pytest.mark.parametrize("host", ["notfacebook.com", "facebook.com.evil.test", "book.com", "example.org", "com",
                                  "2001:db8::2"])
def test_lookalikes_do_not_match(policy, host: str) -> None:
    assert evaluate(policy, Who("u"), Request(host), MONDAY_NOON).rule is None


def test_index_chain_tags_and_most_specific() -> None:
    index = DomainIndex()
    assert index.add_many(["example.com", "a.example.com", "example.com"], "c:x") == 2
    assert index.add_many(["a.example.com", "b.test"], "c:y") == 2
    assert index.add_many(["a.example.com"], "c:y") == 0
    assert index.chain("z.a.example.com") == (frozenset({"c:x", "c:y"}), frozenset({"c:x"}))
    assert index.tags("z.a.example.com") == {"c:x", "c:y"}
    assert index.tags("example.com") == {"c:x"}
    assert index.tags("com") == frozenset()
    assert index.most_specific("q.a.example.com", ["c:y", "c:x"]) == "c:y"
    assert index.most_specific("q.example.com", ["c:y", "c:x"]) == "c:x"
    assert index.most_specific("b.test", ["c:x"]) is None
    assert index.examples("c:x", 5) == ["example.com", "a.example.com"]
    assert len(index) == 3


def test_domain_list_files(tmp_path: Path) -> None:
    (tmp_path / "list.txt").write_text(
        "# a comment\n\nExample.COM.\n  spaced.test   # trailing comment\n0.0.0.0 hosts-format.test\n"
        "*.wild.test\nbücher.example\r\ncrlf.test\r\n", "utf-8")
    policy = load_text("version: 1\ncategories:\n  c: {files: [list.txt]}\nrules:\n"
                       "  - {name: r, categories: [c], action: block}\n", "p.yaml", tmp_path)
    assert policy.categories["c"].domain_count == 6
    for host in ("example.com", "x.spaced.test", "hosts-format.test", "a.wild.test", "xn--bcher-kva.example",
                 "crlf.test"):
        assert policy.category_of(host) == "c", host


def test_bad_lines_in_a_list_file_are_located_in_that_file(tmp_path: Path) -> None:
    # over two megabytes, so line numbers must carry across the loader's read chunks, whichever way
    # (plain names at once, or line by line) each chunk is read
    good = [f"site{i}.example" for i in range(160_000)]
    lines = ["# header", *good, "http://bad.example/path", *good[:10], "two words here", "a..b"]
    (tmp_path / "big.txt").write_text("\n".join(lines) + "\n", "utf-8")
    assert (tmp_path / "big.txt").stat().st_size > 2 << 20
    with pytest.raises(PolicyError) as caught:
        load_policy(_policy_file(tmp_path, "big.txt"))
    found = [(p.file, p.line, p.message) for p in caught.value.problems]
    big = str(tmp_path / "big.txt")
    assert found[0][:2] == (big, 160_002) and "URL or path" in found[0][2]
    assert found[1][:2] == (big, 160_013) and "not one domain name" in found[1][2]
    assert found[2][:2] == (big, 160_014) and "empty label" in found[2][2]


LIST_LINES = st.lists(st.sampled_from([
    "a.test", "b.example.org", "", "   ", "# comment", "c.test # note", "UPPER.Test", "d.test.", "0.0.0.0 e.test",
    "*.f.test", "bad..name", "http://x.test/p", "two words", "g.test\r", "bücher.test", "-h.test", "i_j.test",
]), max_size=40)


@settings(max_examples=60, deadline=None)
@given(LIST_LINES, st.integers(1, 64), st.booleans())
def test_list_files_read_in_any_chunk_size_give_the_same_result(tmp_path_factory, lines: list[str], chunk: int,
                                                                 final_newline: bool) -> None:
    from proxy_addons.policy import domainlists

    directory = tmp_path_factory.mktemp("chunks")
    (directory / "l.txt").write_text("\n".join(lines) + ("\n" if final_newline else ""), "utf-8")
    expected_domains, expected_bad = set(), []
    for number, line in enumerate(lines, 1):  # the obvious way, one line at a time
        text = line.split("#", 1)[0].strip()
        if text:
            try:
                expected_domains.add(domainlists.domain(text))
            except BadHost:
                expected_bad.append(number)
    saved = domainlists._CHUNK
    domainlists._CHUNK = chunk
    try:
        policy = load_text("version: 1\ncategories:\n  c: {files: [l.txt]}\nrules: []\n", "p.yaml", directory)
        assert expected_bad == []
        assert set(policy.index.domains()) == expected_domains
        assert policy.categories["c"].domain_count == len(expected_domains)
    except PolicyError as exc:
        assert [p.line for p in exc.problems] == expected_bad
    finally:
        domainlists._CHUNK = saved


def test_many_bad_lines_are_summarised(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text("\n".join(f"bad{i}..x" for i in range(50)) + "\n", "utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(_policy_file(tmp_path, "bad.txt"))
    problems = caught.value.problems
    assert len(problems) == 21
    assert problems[0].file.endswith("p.yaml") and "30 more bad lines not shown" in problems[0].message


def test_a_list_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes(b"ok.example\ncaf\xe9.example\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(_policy_file(tmp_path, "latin1.txt"))
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (3, 15)
    assert "is not UTF-8 text" in problem.message and "at byte 14" in problem.message


def _policy_file(directory: Path, list_name: str) -> Path:
    path = directory / "p.yaml"
    path.write_text(f"version: 1\ncategories:\n  c: {{files: [{list_name}]}}\nrules:\n"
                    "  - {name: r, categories: [c], action: block}\n", "utf-8")
    return path
