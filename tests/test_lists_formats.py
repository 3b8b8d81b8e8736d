"""Category lists in the formats admins take them in: plain, hosts, adblock/AdGuard, dnsmasq and the
squidGuard / UT1 layout, by `format:` or detected. Whole-domain rules are taken, `@@` exceptions
honoured, everything else skipped and counted; never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy_addons.policy import PolicyError, load_policy, load_text
from proxy_addons.policy import domainlists as domainlists_module
from proxy_addons.policy.lists import cache_name, detect, parser_for

ADBLOCK = """\
[Adblock Plus 2.0]
! Title: social
||facebook.com^
||fbcdn.net^$important
||tracker.example^$third-party
||partial.example
/ads/*
example.org##.banner
@@||developers.facebook.com^
||ads.test^
@@||ads.test^
||*.wild.test^
"""
HOSTS = """\
# hosts
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
0.0.0.0 0.0.0.0
0.0.0.0 tiktok.test www.tiktok.test  # two names
127.0.0.1 snap.test
0.0.0.0 1.2.3.4
not-an-address foo.test
"""
DNSMASQ = """\
# dnsmasq
address=/reddit.test/0.0.0.0
address=/a.test/b.test/
server=/forwarded.test/1.1.1.1
address=/#/
local=/local.test/
"""


def parse(fmt: str, text: str) -> tuple[list[str], object]:
    parser = parser_for(fmt)
    names = parser.feed(text, 1) + parser.finish()
    return names, parser


def test_adblock_takes_whole_domain_rules_only_and_counts_the_rest() -> None:
    names, parser = parse("adblock", ADBLOCK)
    assert names == ["facebook.com", "fbcdn.net"]  # ads.test is excepted again by its own @@ rule
    stats = parser.stats  # type: ignore[attr-defined]
    assert (stats.entries, stats.exceptions, stats.skipped) == (2, 2, 5)
    assert [line for line, _ in stats.samples] == [5, 6, 7, 8, 12]
    assert parser.carve_outs() == ["ads.test", "developers.facebook.com"]  # type: ignore[attr-defined]


def test_hosts_takes_every_name_after_an_address_and_skips_the_machine_itself() -> None:
    names, parser = parse("hosts", HOSTS)
    assert names == ["tiktok.test", "www.tiktok.test", "snap.test"]
    assert parser.stats.skipped == 5  # type: ignore[attr-defined]


def test_dnsmasq_takes_address_lines() -> None:
    names, parser = parse("dnsmasq", DNSMASQ)
    assert names == ["reddit.test", "a.test", "b.test"]
    assert parser.stats.skipped == 3  # type: ignore[attr-defined]


def test_fast_and_slow_paths_agree() -> None:
    """A block of well-formed lines is checked at once; the same lines one by one give the same names."""
    for fmt, line in (("hosts", "0.0.0.0 {}\n"), ("adblock", "||{}^\n"), ("dnsmasq", "address=/{}/0.0.0.0\n"),
                      ("plain", "{}\n")):
        good = "".join(line.format(f"site{i}.test") for i in range(50))
        fast, _ = parse(fmt, good)
        slow, _ = parse(fmt, good + "junk line with spaces\n")
        assert fast == slow == [f"site{i}.test" for i in range(50)], fmt


@pytest.mark.parametrize("text, fmt", [
    (ADBLOCK, "adblock"), (HOSTS.replace("not-an-address foo.test\n", ""), "hosts"), (DNSMASQ, "dnsmasq"),
    ("facebook.com\n*.x.com\n", "plain"),
    ("a.test\nc.test\n0.0.0.0 b.test\n", "plain"),  # mixed, as lists always could be: read as plain
    ("! only a comment\n", "adblock"),
])
def test_formats_are_detected(text: str, fmt: str) -> None:
    assert detect(text) == fmt


def _write(tmp_path: Path, files: dict[str, str], policy: str) -> Path:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    path = tmp_path / "policy.yaml"
    path.write_text(policy)
    return path


POLICY = """\
version: 1
categories:
  social:
    files: [adblock.txt, hosts.txt, dnsmasq.conf, ut1/social_networks]
    lists:
      - {file: named.txt, format: hosts, license: CC-BY-SA-4.0}
rules:
  - {name: no social, categories: [social], action: block}
"""


@pytest.fixture
def lists_policy(tmp_path: Path) -> Path:
    return _write(tmp_path, {
        "adblock.txt": ADBLOCK, "hosts.txt": HOSTS.replace("not-an-address foo.test\n", ""),
        "dnsmasq.conf": DNSMASQ, "named.txt": "0.0.0.0 named.test\n",
        "ut1/social_networks/domains": "ut1.test\nfoo.ut1.test\n",
        "ut1/social_networks/urls": "ut1.test/some/page\nother.test/path\n",
    }, POLICY)


def test_a_category_reads_every_format_and_honours_exceptions(lists_policy: Path) -> None:
    policy = load_policy(lists_policy)
    social = policy.categories["social"]
    assert [(s.where, s.format, s.detected) for s in social.sources] == [
        ("adblock.txt", "adblock", True), ("hosts.txt", "hosts", True), ("dnsmasq.conf", "dnsmasq", True),
        ("ut1/social_networks", "squidguard", True), ("named.txt", "hosts", False)]
    assert social.sources[3].unsupported == 2  # squidGuard urls: reported, never widened to a domain
    assert social.sources[4].license == "CC-BY-SA-4.0"
    for host in ("www.facebook.com", "fbcdn.net", "tiktok.test", "reddit.test", "b.test", "foo.ut1.test",
                 "named.test"):
        assert policy.category_of(host) == "social", host
    for host in ("developers.facebook.com", "api.developers.facebook.com", "ads.test", "tracker.example",
                 "partial.example", "localhost", "forwarded.test", "other.test"):
        assert policy.category_of(host) is None, host
    assert not policy.covers("developers.facebook.com")


def test_an_exception_cuts_out_of_every_list_of_its_category_only(tmp_path: Path) -> None:
    path = _write(tmp_path, {"rules.txt": "@@||keep.social.test^\n||social.test^\n"}, """\
version: 1
categories:
  social: {domains: [social.test, keep.social.test], files: [rules.txt]}
  work: {domains: [keep.social.test]}
rules:
  - {name: no social, categories: [social], action: block}
""")
    policy = load_policy(path)
    assert policy.category_of("a.social.test") == "social"
    assert policy.category_of("keep.social.test") == "work"
    assert policy.category_of("x.keep.social.test") == "work"


def test_chunk_boundaries_do_not_change_what_is_read(lists_policy: Path) -> None:
    whole = load_policy(lists_policy)
    saved = domainlists_module._CHUNK
    domainlists_module._CHUNK = 7
    try:
        chunked = load_policy(lists_policy)
    finally:
        domainlists_module._CHUNK = saved
    assert sorted(chunked.index.domains()) == sorted(whole.index.domains())
    assert chunked.categories["social"].sources == whole.categories["social"].sources


def test_local_lists_are_part_of_the_policy_sha256_remote_ones_are_not(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    url = "https://lists.example/social.txt"
    path = _write(tmp_path, {"local.txt": "local.test\n"}, f"""\
version: 1
categories:
  social:
    files: [local.txt]
    lists: [{{url: "{url}"}}]
rules: []
""")
    (cache / cache_name(url)).write_text("||remote.test^\n")
    first = load_policy(path, cache)
    assert first.category_of("remote.test") == "social"
    assert first.categories["social"].sources[1].format == "adblock"
    (cache / cache_name(url)).write_text("||remote.test^\n||other.test^\n")
    second = load_policy(path, cache)
    assert second.sha256 == first.sha256
    assert second.categories["social"].lists_sha256 != first.categories["social"].lists_sha256
    (tmp_path / "local.txt").write_text("local.test\nmore.test\n")
    assert load_policy(path, cache).sha256 != first.sha256


@pytest.mark.parametrize("entry, message", [
    ('{url: "https://x.example/l", file: a.txt}', "a list has either url: or file:, not both"),
    ("{license: MIT}", "a list has either url: or file:, not neither"),
    ("{file: a.txt, refresh: 1d}", "refresh: is for url: lists only"),
    ("{file: a.txt, format: csv}", "'csv' is not one of plain, hosts, adblock, dnsmasq, squidguard"),
    ('{url: "https://x.example/l", refresh: daily}', "refresh"),
    ("{file: a.txt, format: squidguard}", "not a squidGuard/UT1 category directory"),
    ('{url: "ftp://x.example/l"}', "url"),
])
def test_bad_list_entries_are_located_errors(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "a.txt").write_text("a.test\n")
    with pytest.raises(PolicyError) as caught:
        load_text(f"version: 1\ncategories:\n  c:\n    lists:\n      - {entry}\nrules: []\n", "p.yaml",
                  base_dir=tmp_path, list_cache=tmp_path)
    assert any(p.line == 5 and message in p.message for p in caught.value.problems), caught.value.problems


PIECES = ["a.test", "b.example.org", "1.2.3.4", "localhost", "com", "x.y.10", "Upper.Test", "bad..name", "-h.test",
          "i_j.test", ".lead.test", "trail.test.", "bücher.test", "sp ace.test", ""]
SHAPES = {"plain": ["{}"], "hosts": ["0.0.0.0 {}", "127.0.0.1 {}", "0.0.0.0 {} {}", "# {}"],
          "adblock": ["||{}^", "@@||{}^", "||{}^$important", "||{}", "! {}"],
          "dnsmasq": ["address=/{}/0.0.0.0", "address=/{}/", "address=/{}/{}/::", "server=/{}/1.1.1.1"]}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SHAPES)), st.data())
def test_the_fast_path_never_changes_what_is_read(fmt: str, data: st.DataObject) -> None:
    """Whole blocks (fast) and the same lines behind a line the fast path cannot take (line by line)."""
    shapes = SHAPES[fmt]
    lines = data.draw(st.lists(st.tuples(st.sampled_from(shapes), st.sampled_from(PIECES), st.sampled_from(PIECES)),
                               min_size=1, max_size=30))
    block = "".join(shape.format(a, b) + "\n" for shape, a, b in lines)
    fast, fast_parser = parse(fmt, block)
    slow, slow_parser = parse(fmt, "not a rule at all\n" + block)
    assert fast == slow
    assert fast_parser.stats.skipped + 1 == slow_parser.stats.skipped  # type: ignore[attr-defined]
