"""The pure core: policy model, loading and validation, host matching, schedules and `evaluate()`.

Imports nothing from mitmproxy, Redis or Prometheus, so a decision can be tested and explained
without a proxy.
"""

from .engine import (
    NO_USAGE,
    BudgetUsage,
    Decision,
    QuotaState,
    Request,
    ShadowMatch,
    Step,
    Usage,
    Who,
    evaluate,
    period_of,
    quota_state,
)
from .errors import PolicyError, Problem
from .hosts import BadHost, normalize_host
from .loader import load_policy, load_text, schema
from .model import Policy, Quota, Rule

__all__ = [
    "NO_USAGE", "BadHost", "BudgetUsage", "Decision", "Policy", "PolicyError", "Problem", "Quota",
    "QuotaState", "Request", "Rule", "ShadowMatch", "Step", "Usage", "Who", "evaluate", "load_policy",
    "load_text", "normalize_host", "period_of", "quota_state", "schema",
]
