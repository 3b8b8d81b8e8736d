"""Grafana dashboards and the Prometheus recording rules they read, generated from code.

Why generated: every query takes its metric names from `metrics/names.py` (via `boards.py`, which says what each panel
shows), so renaming a metric cannot leave a dashboard silently empty; the committed JSON/YAML are compared with
this output by a test, and an end-to-end test runs every query against a real Prometheus scraping a real proxy.
Why Grafana's Foundation SDK (`grafana-foundation-sdk`, the `dashboards` extra): it is Grafana's own typed model
of a dashboard, so the JSON has the schema version and field names of the Grafana release the SDK is built for
(`SDK_GRAFANA`) instead of hand-written dicts that drift from it.

    python -m proxy_addons.tools.dashboards --write dashboards/ --rules deploy/prometheus/rules/recording.yml
    python -m proxy_addons.tools.dashboards --check ...      # exit 1 when the committed files differ
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.builders import bargauge, common, prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders import dashboard as sdk
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models.prometheus import PromQueryFormat, QueryEditorMode

from .. import metrics as m
from .boards import BOARDS, JOB, POLICY_CHANGE_EXPR, R_PASSTHROUGH_SHARE, RECORDING_RULES, Board, Panel, Q  # noqa: F401

SDK_GRAFANA = "11.6"  # the Grafana release the pinned SDK models (pyproject.toml); see deploy/README.md
SCHEMA_VERSION = dm.Dashboard().schema_version  # the SDK's dashboard schema version, not ours to choose
DATASOURCE_UID = "prometheus"
DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
TAG = "gonogo"
ALL = dm.VariableOption(selected=True, text=["All"], value=["$__all"])
_REDUCE = common.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False)


def _target(index: int, q: Q) -> prometheus.Dataquery:
    target = (prometheus.Dataquery().ref_id(chr(ord("A") + index)).datasource(DATASOURCE)
              .editor_mode(QueryEditorMode.CODE).expr(q.expr).legend_format(q.legend or "__auto"))
    target = target.instant() if q.instant else target.range()
    return target.format(PromQueryFormat.TABLE) if q.table else target


def _timeseries(p: Panel) -> timeseries.Panel:
    bars = p.kind == "bars"
    return (timeseries.Panel().min(0).draw_style(cm.GraphDrawStyle.BARS if bars else cm.GraphDrawStyle.LINE)
            .fill_opacity(70 if bars else 10).line_width(1).show_points(cm.VisibilityMode.NEVER).span_nulls(False)
            .legend(common.VizLegendOptions().display_mode(cm.LegendDisplayMode.LIST)
                    .placement(cm.LegendPlacement.BOTTOM).show_legend(True))
            .tooltip(common.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING)))


def _stat(p: Panel) -> stat.Panel:
    return (stat.Panel().reduce_options(_REDUCE).color_mode(cm.BigValueColorMode.VALUE)
            .graph_mode(cm.BigValueGraphMode.NONE).justify_mode(cm.BigValueJustifyMode.AUTO)
            .orientation(cm.VizOrientation.AUTO).text_mode(cm.BigValueTextMode.AUTO))


def _bargauge(p: Panel) -> bargauge.Panel:
    return (bargauge.Panel().min(0).reduce_options(_REDUCE).orientation(cm.VizOrientation.HORIZONTAL)
            .display_mode(cm.BarGaugeDisplayMode.BASIC).show_unfilled(True).value_mode(cm.BarGaugeValueMode.COLOR))


def _table(p: Panel) -> table.Panel:
    hidden = {"Time": True, **({"Value": True} if p.hide_value else {})}
    return (table.Panel().show_header(True).cell_height(cm.TableCellHeight.SM)
            .with_transformation(dm.DataTransformerConfig(id_val="organize", options={"excludeByName": hidden})))


_KINDS: dict[str, Any] = {"timeseries": _timeseries, "bars": _timeseries, "stat": _stat, "bargauge": _bargauge,
                          "table": _table}


def _panel(pid: int, p: Panel) -> Any:
    """One panel: the kind's own options, then what every panel has (the SDK places it on the grid)."""
    panel = (_KINDS[p.kind](p).id(pid).title(p.title).description(p.description).datasource(DATASOURCE)
             .height(p.height).span(p.width).unit(p.unit)
             .color_scheme(sdk.FieldColor().mode(dm.FieldColorModeId.PALETTE_CLASSIC))
             .targets([_target(i, q) for i, q in enumerate(p.queries)]))
    if p.decimals is not None:
        panel = panel.decimals(p.decimals)
    return panel.interval(p.interval) if p.interval else panel


def _variable(name: str) -> sdk.QueryVariable:
    if name == "schedule":
        metric, label = m.SCHEDULE_ACTIVE, "Schedule"
    else:
        metric, label = {"group": (m.REQUESTS, "Group"), "category": (m.REQUESTS, "Category"),
                         "instance": (m.POLICY_INFO, "Proxy")}[name]
    query = f"label_values({metric}, {name})"
    variable = (sdk.QueryVariable(name).label(label).datasource(DATASOURCE)
                .query({"query": query, "refId": "StandardVariableQuery"})
                .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC)
                .hide(dm.VariableHide.DONT_HIDE).regex("").options([]))
    if name == "schedule":
        return (variable.multi(False).include_all(False)
                .description("The policy schedule that stands for work time (e.g. work-hours).")
                .current(dm.VariableOption(selected=True, text="work-hours", value="work-hours")))
    return variable.multi(True).include_all(True).all_value(".*").current(ALL)


def _datasource_variable() -> sdk.DatasourceVariable:
    return (sdk.DatasourceVariable("datasource").label("Data source").type("prometheus")
            .hide(dm.VariableHide.DONT_HIDE).regex("")
            .current(dm.VariableOption(selected=True, text="Prometheus", value=DATASOURCE_UID)))


# Prometheus' annotation fields that Grafana's dashboard schema (and so the SDK) does not model: how a result
# becomes the annotation's title, text and tags. Grafana's Prometheus datasource reads them from the annotation.
POLICY_CHANGE_FORMAT = {"step": "1m", "titleFormat": "Policy changed", "textFormat": "now in force: sha256 {{sha256}}",
                        "tagKeys": "sha256", "useValueForTime": False}


def _annotations() -> list[Any]:
    builtin = (sdk.AnnotationQuery().built_in(1).name("Annotations & Alerts").type("dashboard").enable(True)
               .hide(True).icon_color("rgba(0, 211, 255, 1)")
               .datasource(dm.DataSourceRef(type_val="grafana", uid="-- Grafana --")))
    # no panel filter: the mark shows on every time-series panel, the before and after of a change either side
    changes = (sdk.AnnotationQuery().name("Policy changes").datasource(DATASOURCE).enable(True).hide(False)
               .icon_color("orange").expr(POLICY_CHANGE_EXPR))
    return [builtin, changes]


def _build(board: Board) -> sdk.Dashboard:
    builder = (sdk.Dashboard(board.title).uid(board.uid).description(board.description).tags([TAG]).editable()
               .tooltip(dm.DashboardCursorSync.CROSSHAIR).timezone("browser").refresh("1m")
               .time(board.time_from, "now").fiscal_year_start_month(0).live_now(False).week_start("monday")
               .version(1).annotations(_annotations())
               .link(sdk.DashboardLink("gonogo dashboards").type(dm.DashboardLinkType.DASHBOARDS).tags([TAG])
                     .as_dropdown(False).include_vars(False).keep_time(True).icon("external link")
                     .target_blank(False).tooltip("").url(""))
               .variables([_datasource_variable(), *(_variable(v) for v in board.variables)]))
    for pid, panel in enumerate(board.panels, start=1):
        builder = builder.with_panel(_panel(pid, panel))
    return builder


def dashboard(name: str) -> dict[str, Any]:
    """The Grafana JSON of one dashboard (`overview`, `policy-impact`, `gateway-health`) as a dict."""
    board: dict[str, Any] = json.loads(json.dumps(_build(BOARDS[name]()).build(), cls=JSONEncoder))
    for annotation in board["annotations"]["list"]:
        if annotation.get("expr") == POLICY_CHANGE_EXPR:
            annotation.update(POLICY_CHANGE_FORMAT)
    return board


def recording_rules() -> dict[str, Any]:
    return {"groups": [{"name": "gonogo-recording",
                        "rules": [{"record": name, "expr": expr} for name, expr in RECORDING_RULES]}]}


@dataclass(frozen=True)
class Query:
    """One PromQL query of a dashboard, for tests and tooling."""

    board: str
    panel: str
    ref: str
    expr: str
    instant: bool


def queries(name: str) -> Iterator[Query]:
    """Every PromQL query a dashboard runs: panel targets and annotations (variables are label_values)."""
    board = dashboard(name)
    for panel in board["panels"]:
        for target in panel["targets"]:
            yield Query(name, panel["title"], target["refId"], target["expr"], target["instant"])
    for annotation in board["annotations"]["list"]:
        if "expr" in annotation:
            yield Query(name, "annotation: " + annotation["name"], "A", annotation["expr"], False)


# ---- files ----
RULES_HEADER = ("# Generated by `python -m proxy_addons.tools.dashboards --rules ...` from "
                "proxy_addons/tools/boards.py;\n"
                "# do not edit here (a test compares this file with the generator).\n")


def render_dashboard(name: str) -> str:
    return json.dumps(dashboard(name), indent=2, ensure_ascii=False) + "\n"


def render_rules() -> str:
    return RULES_HEADER + yaml.safe_dump(recording_rules(), sort_keys=False, width=100_000, allow_unicode=True)


def outputs(dashboards_dir: Path | None, rules_file: Path | None) -> dict[Path, str]:
    files: dict[Path, str] = {}
    if dashboards_dir is not None:
        files.update({dashboards_dir / f"{name}.json": render_dashboard(name) for name in BOARDS})
    if rules_file is not None:
        files[rules_file] = render_rules()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proxy_addons.tools.dashboards", description=__doc__.split("\n")[0])
    parser.add_argument("--write", type=Path, metavar="DIR", help="directory for the dashboard JSON files")
    parser.add_argument("--rules", type=Path, metavar="FILE", help="the recording rules file to write")
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    args = parser.parse_args(argv)
    files = outputs(args.write, args.rules)
    if not files:
        parser.error("nothing to do: give --write DIR and/or --rules FILE")
    stale = [path for path, text in files.items() if not path.is_file() or path.read_text("utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path}: differs from the generator; run python -m proxy_addons.tools.dashboards", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        print(f"{'wrote' if path in stale else 'unchanged'} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
