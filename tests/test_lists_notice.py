"""The notice names each category with its number of sites and points to an appendix that names every
site (or, for a published list of thousands, the lists that do, with their licenses), in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy_addons.policy import load_policy
from proxy_addons.policy.lists import cache_name
from proxy_addons.tools.notice import render_notice
from proxy_addons.tools.notice_appendix import FULL_LIST

URL = "https://lists.example/social.txt"


@pytest.fixture
def policy(tmp_path: Path):
    social = [f"site{i:02d}.test" for i in range(20)]
    (tmp_path / "social.txt").write_text("\n".join(social) + "\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / cache_name(URL)).write_text("".join(f"0.0.0.0 big{i}.test\n" for i in range(FULL_LIST + 5)))
    path = tmp_path / "policy.yaml"
    path.write_text(f"""\
version: 1
categories:
  social: {{files: [social.txt], description: Social networks}}
  ads:
    lists: [{{url: "{URL}", license: CC-BY-SA-4.0}}]
rules:
  - {{name: no social, categories: [social], action: block}}
  - {{name: no ads, categories: [ads], action: block}}
""")
    return load_policy(path, cache)


def test_the_notice_counts_each_category_and_its_appendix_names_every_site(policy) -> None:
    notice = render_notice(policy, "en")
    assert "## Categories" in notice
    assert "- **social**: 20 sites — Social networks" in notice
    assert f"- **ads**: {FULL_LIST + 5:,} sites" in notice
    assert "and 14 more: see the appendix" in notice
    appendix = notice.split("## Appendix: every site of each category", 1)[1]
    assert "### social: 20 sites" in appendix
    assert ", ".join(f"site{i:02d}.test" for i in range(20)) in appendix
    assert f"This category has {FULL_LIST + 5:,} sites, from the published lists below" in appendix
    assert f"- {URL} (license CC-BY-SA-4.0)" in appendix
    assert "big7.test" not in notice


def test_the_appendix_reads_in_dutch(policy) -> None:
    notice = render_notice(policy, "nl", "html")
    assert "<h2>Bijlage: alle sites per categorie</h2>" in notice
    assert "<h3>social: 20 sites</h3>" in notice
    assert f"{URL} (licentie CC-BY-SA-4.0)" in notice
    assert "en nog 14: zie de bijlage" in notice
