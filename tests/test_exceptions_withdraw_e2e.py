"""Withdrawing one's own open exception request, end to end with real processes: a `gonogo run` proxy, curl
posting the block page's form and then the status page's Withdraw button, `gonogo requests` listing and refusing
to approve it, a local HTTP server as the webhook, and the audit log and metrics the proxy writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from tests.support.proxy import Origin
from tests.test_exceptions_e2e import (  # noqa: F401 (webhook: a fixture)
    PAGE,
    curl_post,
    form_of,
    gonogo_cli,
    start,
    until,
    webhook,
)

STATUS = "http://gonogo.status/"
WITHDRAW = "http://gonogo.status/__gonogo__/exception"
SAME_SITE = "Origin: http://gonogo.status"


def test_withdraw_own_open_request(tmp_path: Path, origin: Origin, request: pytest.FixtureRequest) -> None:
    hook_url, received = request.getfixturevalue("webhook")
    gonogo = start(tmp_path, hook_url)
    site = f"http://facebook.test:{origin.http_port}"
    args = ("--policy", str(gonogo.policy), "--state", gonogo.state)
    try:
        with gonogo.client("alice") as alice, gonogo.client("bob") as bob:
            form = form_of(alice.get(f"{site}/feed", headers=PAGE).text)
            code, page = curl_post(gonogo, "alice", f"{site}/__gonogo__/exception",
                                   {**form, "reason": "a call", "minutes": "30"})
            assert code == 200, page
            request_id = re.search(r"<code>([\w-]{12})</code>", page).group(1)  # type: ignore[union-attr]

            status = alice.get(STATUS, headers=PAGE)
            assert 'class="withdraw"' in status.text and ">Withdraw</button>" in status.text
            assert "form-action 'self'" in status.headers["content-security-policy"]
            button = form_of(status.text)
            assert button["action"] == "withdraw" and button["id"] == request_id and button["token"]
            assert 'class="withdraw"' not in bob.get(STATUS, headers=PAGE).text

            # refused, and the request stays open: another person with alice's button, a token for another
            # request, a post from another site
            assert curl_post(gonogo, "bob", WITHDRAW, button, SAME_SITE)[0] == 403
            other_id = button["id"][::-1]
            assert curl_post(gonogo, "alice", WITHDRAW, {**button, "id": other_id}, SAME_SITE)[0] == 403
            for header in ("Sec-Fetch-Site: cross-site", "Origin: http://evil.test"):
                code, page = curl_post(gonogo, "alice", WITHDRAW, button, header)
                assert code == 403 and "not sent from your own status page" in page, page
            listed = json.loads(gonogo_cli("requests", "list", "--json", *args).stdout)
            assert [(r["id"], r["state"]) for r in listed] == [(request_id, "open")]

            code, page = curl_post(gonogo, "alice", WITHDRAW, button, SAME_SITE, "Sec-Fetch-Site: same-origin")
            assert code == 200 and "Your request was withdrawn" in page and request_id in page, page
            assert f'href="{STATUS}"' in page

            listed = json.loads(gonogo_cli("requests", "list", "--json", *args).stdout)
            assert [(r["id"], r["state"]) for r in listed] == [(request_id, "withdrawn")]
            assert "withdrawn" in gonogo_cli("requests", "list", *args).stdout
            for verb in ("approve", "deny"):
                refused = gonogo_cli("requests", verb, request_id, *args)
                assert refused.returncode == 1 and "was withdrawn" in refused.stderr, refused.stderr
                assert len(refused.stderr.strip().splitlines()) == 1

            # again, in Dutch: no longer open
            code, page = curl_post(gonogo, "alice", WITHDRAW, button, SAME_SITE, "Accept-Language: nl")
            assert code == 409 and "Je verzoek is niet ingetrokken" in page and "ingetrokken." in page, page
            status = alice.get(STATUS, headers=PAGE).text
            assert request_id in status and "withdrawn" in status and 'class="withdraw"' not in status

            posted = until(lambda: [m for m in received if m["event"] == "withdrawn"], "the webhook hears of it")
            assert posted[0]["id"] == request_id and posted[0]["state"] == "withdrawn" and posted[0]["pseudonym"]
            assert "alice" not in json.dumps(posted)
        metrics = httpx.get(f"http://127.0.0.1:{gonogo.metrics_port}/metrics").text
        assert re.search(r'gonogo_exception_requests_total\{group="other",result="withdrawn"\} 1', metrics)

        def audit() -> str:
            return "".join(p.read_text() for p in (gonogo.workdir / "state" / "audit").glob("*.jsonl"))

        def events() -> list[str]:
            return [e["event"] for e in map(json.loads, audit().splitlines()) if e.get("request") == request_id]

        until(lambda: events() == ["requested", "withdrawn"], "the audit log records both")  # written by a thread
        assert "alice" not in audit()
    finally:
        gonogo.stop()
