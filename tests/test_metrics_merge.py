"""The parent of `gonogo run --workers N` merges its workers' real expositions into one `/metrics`."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from proxy_addons.metrics import Metrics
from proxy_addons.policy import Decision, load_policy
from proxy_addons.tools.metrics_merge import merge

EXAMPLE = Path(__file__).resolve().parent.parent / "policies" / "example.yaml"


def exposition(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


def values(families: list, name: str) -> dict[tuple, float]:
    return {tuple(sorted(s.labels.items())): s.value for f in families for s in f.samples if s.name == name}


def test_counters_and_histograms_add_up_and_state_gauges_take_the_cautious_side() -> None:
    policy = load_policy(EXAMPLE)
    workers = [Metrics(CollectorRegistry()), Metrics(CollectorRegistry())]
    block = Decision("block", "block", "tiktok trial", "social", None, "blocked")
    for n, metrics in enumerate(workers):
        metrics.policy_loaded(policy)
        metrics.ledger_available(n == 0)  # the second worker cannot reach the ledger
        for _ in range(n + 2):  # 2 and 3 blocks
            metrics.decision(block, "none", 0.00001)
    workers[1].reload("error")
    merged = merge(exposition(m) for m in workers)
    again = list(text_string_to_metric_families(generate_latest(_Registry(merged)).decode()))  # valid exposition
    requests = values(again, "gonogo_requests_total")
    key = (("category", "social"), ("decision", "block"), ("group", "none"), ("rule", "tiktok trial"))
    assert requests[key] == 5
    assert values(again, "gonogo_decision_seconds_count")[()] == 5
    assert values(again, "gonogo_ledger_available")[()] == 0  # one worker without a ledger: not fine
    assert values(again, "gonogo_policy_last_reload_successful")[()] == 0
    assert list(values(again, "gonogo_policy_info").values()) == [1]  # one policy, not 2
    assert values(again, "gonogo_policy_reloads_total")[(("result", "error"),)] == 1
    assert not any(s.name.endswith("_created") for f in again for s in f.samples)


class _Registry(CollectorRegistry):
    def __init__(self, families: list) -> None:
        super().__init__(auto_describe=False)
        self.families = families

    def collect(self):  # type: ignore[no-untyped-def]
        yield from self.families
