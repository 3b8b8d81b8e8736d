"""The committed dashboards and recording rules are what the generator makes, and they are usable Grafana
dashboards: every panel says what it means, has a unit, reads the provisioned datasource and the variables."""

from __future__ import annotations

import importlib.metadata
import json
import tomllib

import pytest
import yaml

from proxy_addons.tools import dashboards as d
from tests.conftest import ROOT

DASHBOARDS = ROOT / "dashboards"
RECORDING = ROOT / "deploy" / "prometheus" / "rules" / "recording.yml"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
REGENERATE = "python -m proxy_addons.tools.dashboards --write dashboards/ --rules deploy/prometheus/rules/recording.yml"


@pytest.mark.parametrize("name", sorted(d.BOARDS))
def test_committed_dashboard_is_the_generators_output(name):
    path = DASHBOARDS / f"{name}.json"
    assert path.is_file(), f"{path} missing; run {REGENERATE}"
    assert path.read_text("utf-8") == d.render_dashboard(name), f"{path} differs from the generator; run {REGENERATE}"


def test_committed_recording_rules_are_the_generators_output():
    assert RECORDING.read_text("utf-8") == d.render_rules(), f"{RECORDING} differs; run {REGENERATE}"


def test_no_stray_dashboard_files():
    assert {p.stem for p in DASHBOARDS.glob("*.json")} == set(d.BOARDS)


def test_check_mode_reports_a_difference(tmp_path, capsys):
    assert d.main(["--write", str(tmp_path), "--rules", str(tmp_path / "r.yml")]) == 0
    assert d.main(["--check", "--write", str(tmp_path), "--rules", str(tmp_path / "r.yml")]) == 0
    (tmp_path / "overview.json").write_text("{}")
    assert d.main(["--check", "--write", str(tmp_path)]) == 1
    assert "overview.json: differs" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(d.BOARDS))
def test_panels_are_complete(name):
    board = json.loads((DASHBOARDS / f"{name}.json").read_text())
    assert board["schemaVersion"] == d.SCHEMA_VERSION and board["uid"].startswith("gonogo-")
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["current"]["value"] == d.DATASOURCE_UID
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        where = f"{name}: {panel['title']}"
        assert len(panel["description"]) > 80, f"{where}: say what it means and what it does not"
        assert panel["fieldConfig"]["defaults"]["unit"], where
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, where
        assert panel["targets"], where
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"], where
            used = {var for var in ("group", "category", "schedule", "instance") if f"${var}" in target["expr"]}
            assert used <= set(variables), f"{where}: uses undefined variables {used - set(variables)}"
    annotations = [a for a in board["annotations"]["list"] if "expr" in a]
    assert annotations and annotations[0]["expr"] == d.POLICY_CHANGE_EXPR
    # on every time-series panel (no panel filter), with Prometheus' own title/text/tag fields
    assert "filter" not in annotations[0] and annotations[0]["enable"] and not annotations[0]["hide"]
    assert "{{sha256}}" in annotations[0]["textFormat"] and annotations[0]["datasource"]["uid"] == "${datasource}"


def test_the_sdk_is_the_pinned_one_the_docs_name():
    """The JSON is the SDK's output: another SDK build (another Grafana release) would change it."""
    installed = importlib.metadata.version("grafana-foundation-sdk")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert f"grafana-foundation-sdk=={installed}" in pyproject["dashboards"]
    assert installed.split("!")[-1].startswith(d.SDK_GRAFANA + ".")
    assert f"Grafana {d.SDK_GRAFANA}" in (ROOT / "deploy" / "README.md").read_text()
    assert f"`schemaVersion` {d.SCHEMA_VERSION}" in (ROOT / "deploy" / "README.md").read_text()


def test_overview_and_impact_filter_by_group_and_category():
    for name in ("overview", "policy-impact"):
        board = d.dashboard(name)
        assert {"group", "category"} <= {v["name"] for v in board["templating"]["list"]}
        for query in d.queries(name):
            if query.panel.startswith("annotation") or "gonogo_policy_info" in query.expr:
                continue
            assert '$group' in query.expr, f"{name}: {query.panel} ignores the group variable"


def test_grafana_provisioning_points_at_prometheus_and_the_dashboards():
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yaml").read_text())["datasources"]
    prometheus = next(ds for ds in datasources if ds["type"] == "prometheus")
    assert prometheus["uid"] == d.DATASOURCE_UID
    assert prometheus["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "gonogo.yaml").read_text())["providers"]
    path = providers[0]["options"]["path"]
    compose = ROOT / "deploy" / "compose" / "compose.yaml"
    if compose.is_file():  # the compose file (deploy/) must mount dashboards/ where the provider looks
        grafana = yaml.safe_load(compose.read_text())["services"]["grafana"]
        mounts = {(v["source"], v["target"]) for v in grafana["volumes"] if isinstance(v, dict) and "source" in v}
        assert ("../../dashboards", path) in mounts
        assert ("../grafana/provisioning", "/etc/grafana/provisioning") in mounts
