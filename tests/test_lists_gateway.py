"""A running gateway with a remote category list, published by a real HTTP server on 127.0.0.1: the
gateway starts without a copy, fetches it in the background and applies it like a policy reload; a list
that changes (fetched by `gonogo lists update`) applies too; a failed fetch keeps the last good list.
The policy's sha256 in `gonogo_policy_info` stays the policy file's; the list is in `gonogo_list_info`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from proxy_addons import metrics as m
from tests.support.listserver import ListServer
from tests.support.proxy import GONOGO, Gonogo, Origin

NAV = {"sec-fetch-dest": "document", "accept": "text/html"}


def samples(gonogo: Gonogo, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = httpx.get(f"http://127.0.0.1:{gonogo.metrics_port}/metrics", trust_env=False, timeout=10).text
    return {tuple(sorted(s.labels.items())): s.value for f in text_string_to_metric_families(text)
            for s in f.samples if s.name == name}


def test_a_remote_list_is_fetched_in_the_background_and_applied(tmp_path: Path, origin: Origin) -> None:
    server = ListServer(body=b"0.0.0.0 tiktok.test\n").start()
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"""\
version: 1
categories:
  social:
    domains: [linkedin.test]
    lists:
      - {{url: "{server.url()}", format: hosts, refresh: 1h, license: CC0-1.0}}
rules:
  - {{name: no social, categories: [social], action: block}}
""")
    gonogo = Gonogo(tmp_path, policy, "--set", "gonogo_lists_interval=1", "--set", "gonogo_reload_ms=200")
    try:
        gonogo.start()
        assert "no copy of" in gonogo.wait_for("warning: category 'social'")
        enforcing = next(line for line in gonogo.lines if "gonogo enforcing" in line)
        started = re.search(r"sha256 ([0-9a-f]{12})", enforcing).group(1)  # type: ignore[union-attr]
        assert "updated: 1 entry" in gonogo.wait_for(f"list {re.escape(server.url())}")
        assert started in gonogo.wait_for("policy reloaded")  # same policy sha256: only the list changed
        with gonogo.client(also_trust=(origin.cert,)) as c:
            assert c.get(f"https://tiktok.test:{origin.https_port}/", headers=NAV).status_code == 403
            assert c.get(f"https://news.test:{origin.https_port}/").status_code == 200
            assert samples(gonogo, m.LIST_REFRESHES)[(("category", "social"), ("result", "updated"))] == 1
            info = samples(gonogo, m.LIST_INFO)
            assert [dict(k)["entries"] for k in info] == ["2"]
            assert [dict(k)["sha256"][:12] for k in samples(gonogo, m.POLICY_INFO)] == [started]

            server.body = b"0.0.0.0 tiktok.test\n0.0.0.0 news.test\n"
            cache = tmp_path / "state" / "lists"
            update = [str(GONOGO), "lists", "update", str(policy), "--lists-cache", str(cache)]
            done = subprocess.run(update, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0 and "updated" in done.stdout, done.stderr
            gonogo.wait_for("policy reloaded")
            assert samples(gonogo, m.LIST_INFO) != info
        with gonogo.client(also_trust=(origin.cert,)) as c:  # the open tunnel to news.test was passed through
            assert c.get(f"https://news.test:{origin.https_port}/", headers=NAV).status_code == 403

            server.status = 500
            done = subprocess.run(update, capture_output=True, text=True, timeout=60)
            assert done.returncode == 1 and "failed: HTTP 500" in done.stderr
            assert c.get(f"https://news.test:{origin.https_port}/", headers=NAV).status_code == 403
    finally:
        server.stop()
        assert gonogo.stop() == 0
