"""Every metric name and the label values that do not come from the policy.

Why its own module: `dashboards.py`, `boards.py` and the recording rules take their names from here, and this
is the only place a metric name is spelled out.
"""

from __future__ import annotations

# ---- metric names (the only place they are spelled out) ----
REQUESTS = "gonogo_requests_total"
SHADOW_DECISIONS = "gonogo_shadow_decisions_total"
DECISION_SECONDS = "gonogo_decision_seconds"
ACTIVE_SECONDS = "gonogo_active_seconds_total"  # was gonogo_active_minutes_total (x60), see README
ACTIVE_USERS = "gonogo_active_users"
USERS_TODAY = "gonogo_users_today"
CATEGORY_USERS_TODAY = "gonogo_category_users_today"
QUOTA_EXHAUSTED = "gonogo_quota_exhausted_total"
WARN_CONTINUES = "gonogo_warn_continues_total"
POLICY_INFO = "gonogo_policy_info"
POLICY_RELOADS = "gonogo_policy_reloads_total"
POLICY_LAST_RELOAD_OK = "gonogo_policy_last_reload_successful"
SCHEDULE_ACTIVE = "gonogo_schedule_active"
PASSTHROUGH = "gonogo_passthrough_connections_total"
INTERCEPTED = "gonogo_intercepted_connections_total"
LEDGER_ERRORS = "gonogo_ledger_errors_total"
LEDGER_AVAILABLE = "gonogo_ledger_available"
NOT_SPENT = "gonogo_requests_not_spent_total"
LIST_REFRESHES = "gonogo_list_refresh_total"
LIST_INFO = "gonogo_list_info"
LIST_NAMES = (LIST_REFRESHES, LIST_INFO)  # exported only when the policy has category lists
EXCEPTION_REQUESTS = "gonogo_exception_requests_total"
DIRECTORY_AVAILABLE = "gonogo_directory_available"
DIRECTORY_REFRESHES = "gonogo_directory_refreshes_total"

ALL_NAMES = (
    REQUESTS, SHADOW_DECISIONS, DECISION_SECONDS, ACTIVE_SECONDS, ACTIVE_USERS, USERS_TODAY, CATEGORY_USERS_TODAY,
    QUOTA_EXHAUSTED, WARN_CONTINUES, POLICY_INFO, POLICY_RELOADS, POLICY_LAST_RELOAD_OK, SCHEDULE_ACTIVE,
    PASSTHROUGH, INTERCEPTED, LEDGER_ERRORS, LEDGER_AVAILABLE, NOT_SPENT, EXCEPTION_REQUESTS, DIRECTORY_AVAILABLE,
    DIRECTORY_REFRESHES, *LIST_NAMES,
)
"""Every metric `Metrics` exports (histograms add `_bucket`, `_sum` and `_count` series)."""

# ---- label values that do not come from the policy ----
OTHER = "other"  # a group with too few people seen, or a name the policy does not know
NONE = "none"  # no group / no category
DEFAULT_RULE = "default"  # the policy's default decided
DECISIONS = ("allow", "block", "warn")
RELOAD_RESULTS = ("ok", "error")
LIST_RESULTS = ("updated", "unchanged", "failed", "rejected")  # proxy_addons.lists.fetch.RESULTS
DIRECTORY_RESULTS = ("ok", "error")
PASSTHROUGH_REASONS = ("uncovered", "no-ca-mode")  # the addon's reasons, exported at 0 from the start
# why a time-boxed request was decided but spent no minute (policy/attention.py)
NOT_SPENT_REASONS = ("background", "server-push", "no-fetch-metadata")
EXCEPTION_RESULTS = ("requested", "approved", "denied", "expired", "withdrawn")  # exception requests, by what happened

ACTIVE_WINDOW_MINUTES = 5
DECISION_BUCKETS = (0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                    0.025, 0.05, 0.1, 0.25, 1.0)
MAX_TRACKED = 100_000  # bound of every in-memory set of pseudonyms

__all__ = [
    "ACTIVE_SECONDS",
    "ACTIVE_USERS",
    "ACTIVE_WINDOW_MINUTES",
    "ALL_NAMES",
    "CATEGORY_USERS_TODAY",
    "DECISIONS",
    "DECISION_BUCKETS",
    "DECISION_SECONDS",
    "DEFAULT_RULE",
    "DIRECTORY_AVAILABLE",
    "DIRECTORY_REFRESHES",
    "DIRECTORY_RESULTS",
    "EXCEPTION_REQUESTS",
    "EXCEPTION_RESULTS",
    "INTERCEPTED",
    "LEDGER_AVAILABLE",
    "LEDGER_ERRORS",
    "LIST_INFO",
    "LIST_NAMES",
    "LIST_REFRESHES",
    "LIST_RESULTS",
    "MAX_TRACKED",
    "NONE",
    "NOT_SPENT",
    "NOT_SPENT_REASONS",
    "OTHER",
    "PASSTHROUGH",
    "PASSTHROUGH_REASONS",
    "POLICY_INFO",
    "POLICY_LAST_RELOAD_OK",
    "POLICY_RELOADS",
    "QUOTA_EXHAUSTED",
    "RELOAD_RESULTS",
    "REQUESTS",
    "SCHEDULE_ACTIVE",
    "SHADOW_DECISIONS",
    "USERS_TODAY",
    "WARN_CONTINUES",
]
