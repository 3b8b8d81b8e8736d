"""Remote lists are fetched from a real HTTP server on 127.0.0.1: conditional requests, changes, 304s,
failures, and downloads that are empty, too large, too slow or shrink too much, where the last good copy
must stay. `gonogo lists update` fetches into the cache the loader reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy_addons.cli import main
from proxy_addons.lists.fetch import Limits, cache_path, due, fetch_list, read_meta
from proxy_addons.policy import load_policy
from tests.support.listserver import ListServer

HOSTS = "".join(f"0.0.0.0 site{i}.test\n" for i in range(100)).encode()


@pytest.fixture
def server():
    s = ListServer(body=HOSTS).start()
    yield s
    s.stop()


def test_first_fetch_caches_the_list_and_the_next_is_a_conditional_304(tmp_path: Path, server: ListServer) -> None:
    first = fetch_list(server.url(), "hosts", tmp_path)
    assert (first.result, first.entries) == ("updated", 100)
    assert cache_path(tmp_path, server.url()).read_bytes() == HOSTS
    assert "if-none-match" not in server.requests[0]
    second = fetch_list(server.url(), "hosts", tmp_path)
    assert second.result == "unchanged" and "304" in second.detail
    assert server.requests[1]["if-none-match"] == server.etag
    assert server.requests[1]["if-modified-since"] == server.last_modified
    assert read_meta(tmp_path, server.url())["entries"] == 100


def test_a_changed_list_replaces_the_copy(tmp_path: Path, server: ListServer) -> None:
    fetch_list(server.url(), None, tmp_path)
    server.body = HOSTS + b"0.0.0.0 new.test\n"
    outcome = fetch_list(server.url(), None, tmp_path)
    assert (outcome.result, outcome.entries) == ("updated", 101)
    assert cache_path(tmp_path, server.url()).read_bytes().endswith(b"new.test\n")


@pytest.mark.parametrize("breakage, result", [
    pytest.param({"status": 500}, "failed", id="server-error"),
    pytest.param({"status": 404}, "failed", id="gone"),
    pytest.param({"body": b""}, "rejected", id="empty"),
    pytest.param({"body": b"# only comments\n\n"}, "rejected", id="no-entries"),
    pytest.param({"body": HOSTS[:len(HOSTS) // 3]}, "rejected", id="shrank-by-two-thirds"),
    pytest.param({"body": HOSTS * 50}, "rejected", id="too-large-announced"),
    pytest.param({"body": HOSTS * 50, "chunked": True}, "rejected", id="too-large-unannounced"),
    pytest.param({"body": b"\xff\xfe not text\n"}, "rejected", id="not-utf8"),
])
def test_a_bad_download_keeps_the_last_good_copy(tmp_path: Path, server: ListServer, breakage: dict[str, object],
                                                   result: str) -> None:
    limits = Limits(max_bytes=len(HOSTS) * 10)
    assert fetch_list(server.url(), "hosts", tmp_path, limits).result == "updated"
    for key, value in breakage.items():
        setattr(server, key, value)
    outcome = fetch_list(server.url(), "hosts", tmp_path, limits)
    assert outcome.result == result, outcome
    assert cache_path(tmp_path, server.url()).read_bytes() == HOSTS
    assert not list(tmp_path.glob("*.part"))
    assert read_meta(tmp_path, server.url())["entries"] == 100


def test_a_download_that_stops_arriving_fails_within_the_time_limit(tmp_path: Path, server: ListServer) -> None:
    server.stall_after = 10
    outcome = fetch_list(server.url(), "hosts", tmp_path, Limits(timeout=0.5))
    assert outcome.result == "failed"
    assert not cache_path(tmp_path, server.url()).exists()


def test_an_unreachable_server_fails_and_is_retried_later(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/list.txt"  # discard port: nothing listens
    outcome = fetch_list(url, None, tmp_path, clock=lambda: 1000.0)
    assert outcome.result == "failed"
    limits = Limits(retry=600)
    assert not due(tmp_path, url, 86400, 1000.0 + 599, limits)
    assert due(tmp_path, url, 86400, 1000.0 + 600, limits)


def test_a_list_is_due_when_its_refresh_interval_has_passed(tmp_path: Path, server: ListServer) -> None:
    assert due(tmp_path, server.url(), 3600, 0.0)  # never fetched
    fetch_list(server.url(), None, tmp_path, clock=lambda: 10_000.0)
    assert not due(tmp_path, server.url(), 3600, 10_000.0 + 3599)
    assert due(tmp_path, server.url(), 3600, 10_000.0 + 3600)


def test_force_accepts_a_list_that_shrank(tmp_path: Path, server: ListServer) -> None:
    fetch_list(server.url(), None, tmp_path)
    server.body = HOSTS[:len(HOSTS) // 4]
    assert fetch_list(server.url(), None, tmp_path).result == "rejected"
    assert fetch_list(server.url(), None, tmp_path, force=True).result == "updated"


def _policy(tmp_path: Path, url: str, fmt: str = "hosts") -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(f"""\
version: 1
categories:
  social:
    domains: [own.test]
    lists:
      - {{url: "{url}", format: {fmt}, refresh: 6h, license: CC-BY-SA-4.0}}
rules:
  - {{name: no social, categories: [social], action: block}}
""")
    return path


def test_lists_update_fetches_into_the_cache_the_loader_reads(tmp_path: Path, server: ListServer,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    policy_path = _policy(tmp_path, server.url())
    cache = tmp_path / "cache"
    before = load_policy(policy_path, cache)
    assert before.categories["social"].domain_count == 1
    assert any("no copy of" in w.message for w in before.warnings)
    assert main(["lists", "update", str(policy_path), "--lists-cache", str(cache)]) == 0
    assert "updated: 100 entries" in capsys.readouterr().out
    after = load_policy(policy_path, cache)
    assert after.categories["social"].domain_count == 101
    assert after.category_of("www.site7.test") == "social"
    assert after.sha256 == before.sha256  # a list's contents are no policy change...
    assert after.categories["social"].lists_sha256 != before.categories["social"].lists_sha256  # ...but counted
    assert main(["lists", "update", str(policy_path), "--lists-cache", str(cache)]) == 0
    assert "unchanged" in capsys.readouterr().out
    server.status = 503
    assert main(["lists", "update", str(policy_path), "--lists-cache", str(cache)]) == 1
    assert "failed: HTTP 503" in capsys.readouterr().err
    assert load_policy(policy_path, cache).categories["social"].domain_count == 101


def test_check_reports_each_list_of_a_category(tmp_path: Path, server: ListServer,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    policy_path = _policy(tmp_path, server.url())
    cache = tmp_path / "cache"
    assert main(["check", str(policy_path), "--lists-cache", str(cache)]) == 0
    out = capsys.readouterr()
    assert "hosts, no copy yet: not in force until fetched, license CC-BY-SA-4.0, fetched every 6 hours" in out.out
    assert "warning: category 'social': no copy of" in out.err
    server.body = HOSTS + b"127.0.0.1 localhost\n"
    fetch_list(server.url(), "hosts", cache)
    assert main(["check", str(policy_path), "--lists-cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert (f"- {server.url()}: hosts, 100 entries, 1 line skipped, license CC-BY-SA-4.0, fetched every 6 hours"
            in out)
    assert "skipped line 101: 127.0.0.1 localhost" in out


def test_the_background_refresh_fetches_due_lists_once_and_reports_each_category(tmp_path: Path,
                                                                                   server: ListServer) -> None:
    import asyncio

    from proxy_addons.lists.refresh import ListRefresher

    path = tmp_path / "policy.yaml"
    path.write_text(f"""\
version: 1
categories:
  social: {{lists: [{{url: "{server.url()}", refresh: 1d}}]}}
  games: {{lists: [{{url: "{server.url()}", refresh: 6h}}]}}
rules: []
""")
    cache = tmp_path / "cache"
    policy = load_policy(path, cache)
    results: list[tuple[str, str]] = []
    changes: list[int] = []
    refresher = ListRefresher(cache, lambda: policy, lambda: changes.append(1), lambda c, r: results.append((c, r)))
    outcomes = asyncio.run(refresher.refresh_due())
    assert [o.result for o in outcomes] == ["updated"]  # one fetch for both categories
    assert results == [("social", "updated"), ("games", "updated")]
    assert changes == [1]
    assert asyncio.run(refresher.refresh_due()) == []  # not due again for 6 hours
    assert len(server.requests) == 1
    assert load_policy(path, cache).categories["games"].domain_count == 100
