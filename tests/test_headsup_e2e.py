"""The heads-up before a budget ends, through a real `gonogo run`: the first page load with `heads_up` minutes
or fewer left gets the page (English or Dutch, policy values escaped), *continue* goes on to the site and it
does not show again that period, also not after a restart; the next period shows it again."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.proxy import Gonogo, Origin, make_cert
from tests.support.timebox import FileClock

RULE = 'feed <b>"&"</b>'
POLICY = f"""\
version: 1
rules:
  - name: '{RULE}'
    domains: [facebook.test]
    action: timebox
    quota: {{minutes: 4, per: day, heads_up: 2}}
"""
PAGE = {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate", "accept": "text/html"}


@pytest.fixture
def origin(tmp_path: Path) -> Iterator[Origin]:
    cert, key = make_cert(tmp_path)
    server = Origin(cert, key).start()
    yield server
    server.stop()


def load(proxy: Gonogo, origin: Origin, path: str = "/feed", lang: str = "en") -> httpx.Response:
    with proxy.client("ann", also_trust=(origin.cert,)) as c:
        return c.get(f"https://facebook.test:{origin.https_port}{path}",
                     headers={**PAGE, "accept-language": lang})


def continue_path(page: str) -> str:
    found = re.search(r'<a class="button" href="([^"]+)"', page)
    assert found, page
    return html.unescape(found.group(1))


def test_heads_up_once_per_period_in_english_and_dutch(tmp_path: Path, origin: Origin) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    clock = FileClock(tmp_path / "clock")
    proxy = Gonogo(tmp_path, policy, "--set", "proxyauth=any", *clock.option()).start()
    try:
        first = load(proxy, origin)  # minute 1 of 4: 3 left, more than 2
        assert first.status_code == 200 and first.text.startswith("origin says hello")
        clock.advance()
        page = load(proxy, origin)  # minute 2: 2 left
        assert page.status_code == 200 and page.headers["x-gonogo-decision"] == "heads-up"
        assert page.headers["x-gonogo-minutes-left"] == "2"
        assert "2 minutes left today" in page.text and "4 minutes per day" in page.text
        assert "Your time starts again tomorrow at 00:00" in page.text
        assert "feed &lt;b&gt;&quot;&amp;&quot;&lt;/b&gt;" in page.text and "<b>" not in page.text
        assert not [s for s in origin.seen if s.path == "/feed" and s.headers.get("accept-language") == "en"][1:]
        with proxy.client("ann", also_trust=(origin.cert,)) as c:
            picture = c.get(f"https://facebook.test:{origin.https_port}/a.png",
                            headers={"sec-fetch-dest": "image", "sec-fetch-mode": "no-cors"})
        assert picture.status_code == 200 and picture.text.startswith("origin says hello")
        dutch = load(proxy, origin, lang="nl")
        assert dutch.headers["content-language"] == "nl"
        assert "Nog 2 minuten over vandaag" in dutch.text and "Doorgaan naar" in dutch.text
        link = continue_path(dutch.text)
        with proxy.client("ann", also_trust=(origin.cert,)) as c:
            went = c.get(f"https://facebook.test:{origin.https_port}{link}")
            assert went.status_code == 302 and went.headers["location"] == "/feed"
            forged = c.get(f"https://facebook.test:{origin.https_port}{link.replace('sig=', 'sig=x')}")
            assert forged.status_code == 403
        after = load(proxy, origin)
        assert after.status_code == 200 and after.text.startswith("origin says hello")
        assert proxy.stop() == 0
        proxy = Gonogo(tmp_path, policy, "--set", "proxyauth=any", *clock.option()).start()
        clock.advance()  # minute 3: 1 left, seen already this period (remembered in the store)
        assert load(proxy, origin).text.startswith("origin says hello")
        clock.advance(86400)  # tomorrow: a new period
        assert load(proxy, origin).text.startswith("origin says hello")  # 3 left
        clock.advance()
        again = load(proxy, origin)
        assert again.headers.get("x-gonogo-decision") == "heads-up", again.text[:200]
    finally:
        proxy.stop()
