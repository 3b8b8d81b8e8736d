"""One `/metrics` for all workers of `gonogo run --workers N`: the parent reads each worker's exposition (on
127.0.0.1, a port only the parent is told) at scrape time and merges them.

Why an aggregation and not prometheus-client's multiprocess mode: multiprocess mode supports only plain
counters, gauges and histograms kept in files; the gateway also exports values computed at scrape time by a
collector (people active in the last minutes, people seen today, schedules, the ledger's availability), which
multiprocess mode cannot carry. Reading the workers' own expositions keeps every metric as it is, and the
merge rules below are those Prometheus itself would apply when summing the workers as separate targets:

- counters and histograms (`_total`, `_bucket`, `_sum`, `_count`): summed;
- `gonogo_policy_info`, `gonogo_schedule_active`: the highest value (1 while any worker has that policy /
  sees the schedule on; during a reload both policies show for a moment);
- `gonogo_policy_last_reload_successful`, `gonogo_ledger_available`: the lowest (0 if any worker has it so);
- people gauges (active users, users today): summed over the workers. Each worker counts the people it saw; a
  person whose connections landed on two workers counts in both, so these are an upper bound (pseudonyms are
  per process and never leave it, on purpose). Per-person figures that must be exact (time-boxes) live in
  the ledger, which all workers share.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families

from ..metrics import LEDGER_AVAILABLE, POLICY_INFO, POLICY_LAST_RELOAD_OK, SCHEDULE_ACTIVE

WORKERS = "gonogo_workers"
_HIGHEST = {POLICY_INFO, SCHEDULE_ACTIVE}
_LOWEST = {POLICY_LAST_RELOAD_OK, LEDGER_AVAILABLE}

SampleKey = tuple[str, tuple[tuple[str, str], ...]]


def _combine(family: str, old: float, new: float) -> float:
    if family in _HIGHEST:
        return max(old, new)
    if family in _LOWEST:
        return min(old, new)
    return old + new


def merge(expositions: Iterable[str]) -> list[Metric]:
    """The workers' expositions (Prometheus text format) merged into one set of metric families."""
    families: dict[str, tuple[str, str, dict[SampleKey, float]]] = {}
    for text in expositions:
        for family in text_string_to_metric_families(text):
            _, _, samples = families.setdefault(family.name, (family.type, family.documentation, {}))
            for sample in family.samples:
                if sample.name.endswith("_created"):
                    continue
                key = (sample.name, tuple(sorted(sample.labels.items())))
                old = samples.get(key)
                samples[key] = sample.value if old is None else _combine(family.name, old, sample.value)
    merged = []
    for name, (kind, documentation, samples) in families.items():
        metric = Metric(name, documentation, kind)
        for (sample_name, labels), value in samples.items():
            metric.add_sample(sample_name, dict(labels), value)
        merged.append(metric)
    return merged


def fetch(port: int, timeout: float = 5.0) -> str:
    """A worker's exposition in the classic text format (what the parser reads)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Accept": "text/plain"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode("utf-8")


class WorkerMetrics:
    """A prometheus-client collector: the merged metrics of the workers `ports()` names (the serving ones)."""

    def __init__(self, ports: Callable[[], list[int]]) -> None:
        self.ports = ports

    def collect(self) -> Iterator[Metric]:
        texts = []
        for port in self.ports():
            try:
                texts.append(fetch(port))
            except OSError:  # a worker that just died: the parent restarts it; its counters restart at 0
                continue
        yield from merge(texts)
        yield GaugeMetricFamily(WORKERS, "Worker processes whose metrics this scrape merged (gonogo run --workers).",
                                value=len(texts))

    def describe(self) -> Iterable[Metric]:
        return []
