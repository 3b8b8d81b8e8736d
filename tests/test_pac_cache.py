"""The PAC file is written once per policy and status host and only filled in per proxy address; the address
comes from an unauthenticated Host header, so it is checked and the filled-in copies are bounded."""

from __future__ import annotations

import asyncio

import pytest

from proxy_addons.gateway import pac
from proxy_addons.gateway.pac import PacCache, proxy_address, render_pac
from proxy_addons.policy import load_text

POLICY = "version: 1\ncategories:\n  social: {domains: [facebook.test]}\nrules:\n" \
         "  - {name: r, categories: [social], action: block}\n"


@pytest.mark.parametrize(("host", "expected"), [
    ("gw.example:3128", "gw.example:3128"), ("gw.example", "gw.example:80"), ("10.0.0.1:8080", "10.0.0.1:8080"),
    ("[2001:db8::1]:8080", "[2001:db8::1]:8080"), ("GW.Example.:3128", "GW.Example.:3128"),
    ('evil";alert(1);//:80', None), ("gw.example:abc", None), ("gw.example:99999", None), ("gw.example:0", None),
    ("", None), ("a b:80", None), ("gw.example:80/x", None), ("-gw.example:80", None), ("x" * 300, None),
])
def test_proxy_address(host: str, expected: str | None) -> None:
    assert proxy_address(host) == expected


def test_written_once_per_policy_and_filled_in_per_address(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = load_text(POLICY, "p.yaml")
    calls: list[str] = []

    def counting(*args: object, **kwargs: object) -> str:
        calls.append("render")
        return render_pac(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pac, "render_pac", counting)

    async def main() -> None:
        cache = PacCache(size=3)
        bodies = await asyncio.gather(*(cache.get(policy, f"gw{i}.example:3128", "gonogo.status") for i in range(10)))
        for i, body in enumerate(bodies):
            assert body.decode() == render_pac(policy, f"gw{i}.example:3128", always=("gonogo.status",))
        assert len(cache._bodies) == 3  # bounded
        assert calls == ["render"]
        other = load_text(POLICY.replace("block", "warn"), "p.yaml")
        await cache.get(other, "gw0.example:3128", "gonogo.status")
        assert calls == ["render", "render"]

    asyncio.run(main())
