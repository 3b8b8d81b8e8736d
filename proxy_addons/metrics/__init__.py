"""Prometheus metrics of the gateway: every metric name, the collectors and the `/metrics` server.

Why it is built this way:
- One module (`names.py`) holds every name; `dashboards.py` and the recording rules take their names from here.
- Collectors live in a per-instance `CollectorRegistry`: when mitmdump re-runs a changed script a new
  `Metrics` is made and "Duplicated timeseries" cannot happen.
- Label values come from the loaded policy only (group, category and rule names), never from traffic: the
  number of series is bounded by the policy and no user name or address can reach a label. A group is
  reported as `other` until `privacy.min_group_size` distinct people of it were seen.
- Only counters and plain gauges are exported, never per-process ratios, so several proxies behind one
  Prometheus sum correctly; the dashboards compute ratios in PromQL. `_created` series are dropped (they
  would double the series count and nothing reads them).
- People are remembered only as keyed pseudonyms (HMAC with a per-process random key), in memory, in
  bounded sets, for as long as a metric needs them (deduplication of a minute, "active in the last 5
  minutes", "seen today").

Layout: `names.py` (metric names and label values), `collect.py` (the `Metrics` collector), `series.py` (the
collectors it builds and the series it creates at 0), `server.py` (the `/metrics` and `/healthz` server). Every
public name is re-exported here: import from `proxy_addons.metrics`.
"""

from .collect import Metrics
from .names import *  # noqa: F403 - every metric name and label value, one list in names.__all__
from .names import __all__ as _names
from .server import MetricsServer

__all__ = ["Metrics", "MetricsServer", *_names]
