"""deploy/prometheus: the config, recording rules and alerts pass promtool's checks and unit tests, and every
name they use exists (a metric renamed in metrics.py must not leave an alert that can never fire)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from proxy_addons import metrics as m
from proxy_addons.tools import dashboards as d
from tests.conftest import ROOT

PROM = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted((PROM / "rules").glob("*.yml"))
TEST_FILES = sorted((PROM / "tests").glob("*.yml"))

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None,
                                    reason="promtool (Debian package prometheus) not installed")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


@needs_promtool
def test_promtool_check_rules():
    assert {p.name for p in RULE_FILES} == {"recording.yml", "alerts.yml"}
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_test_rules():
    assert TEST_FILES, "no promtool rule tests"
    result = promtool("test", "rules", *map(str, TEST_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(TEST_FILES)


@needs_promtool
def test_promtool_check_config():
    result = promtool("check", "config", str(PROM / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files found" in result.stdout


def test_scrape_job_is_the_one_dashboards_and_alerts_use():
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    jobs = [job["job_name"] for job in config["scrape_configs"]]
    assert d.JOB in jobs
    alerts = (PROM / "rules" / "alerts.yml").read_text()
    assert f'up{{job="{d.JOB}"}}' in alerts


def _rules(path):
    return [rule for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]]


def test_every_name_in_rules_and_dashboards_exists():
    metric_series = {n for n in m.ALL_NAMES if n != m.DECISION_SECONDS}
    metric_series |= {m.DECISION_SECONDS + s for s in ("_bucket", "_sum", "_count")}
    recorded = {name for name, _ in d.RECORDING_RULES}
    exprs = [rule["expr"] for path in RULE_FILES for rule in _rules(path)]
    exprs += [q.expr for board in d.BOARDS for q in d.queries(board)]
    tokens = {t for e in exprs for t in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", e) if "gonogo_" in t}
    used_records = {t for t in tokens if ":" in t}
    used_metrics = tokens - used_records
    assert used_records, "the dashboards should read recording rules"
    assert used_metrics <= metric_series, used_metrics - metric_series
    assert used_records <= recorded, used_records - recorded


def test_alerts_cover_down_reload_ledger_and_latency():
    alerts = {rule["alert"]: rule for rule in _rules(PROM / "rules" / "alerts.yml")}
    assert {"GonogoProxyDown", "GonogoPolicyReloadFailing", "GonogoLedgerErrors", "GonogoLedgerUnavailable",
            "GonogoDecisionLatencyHigh"} <= set(alerts)
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
    tested = "\n".join(p.read_text() for p in TEST_FILES)
    for name in alerts:
        assert f"alertname: {name}" in tested, f"alert {name} has no promtool test"
