"""The monitoring artefacts, offline: dashboards and alert rules query only metrics the services export,
with labels those metrics have, from the provisioned Prometheus datasource.

promtool (deploy/prometheus/check.sh) checks that the PromQL parses and that the alerts fire; this checks
what promtool cannot know: the names. The same names are compared with live /metrics scrapes elsewhere,
through tests.monitoring.metric_names_in_dashboards_and_rules.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.monitoring import (
    ALERTS,
    DATASOURCES,
    HISTOGRAM_SUFFIXES,
    NOT_ON_METRICS_ENDPOINT,
    Expression,
    alert_expressions,
    all_expressions,
    base_name,
    dashboard_expressions,
    dashboard_files,
    load_dashboard,
    metric_names,
    metric_names_in_dashboards_and_rules,
    metric_usages,
    panels,
    variable_query,
    without_strings,
)

Kind = Literal["counter", "gauge", "histogram"]

# What the services export (prometheus_client: counters get `_total`, histograms `_bucket/_sum/_count`).
# The labels are the metric's own; Prometheus adds `job` and `instance` when it scrapes.
_EXPORTED: list[tuple[str, Kind, str]] = [
    # platform, every service
    ("servicedesk_http_request_duration_seconds", "histogram", "method route status"),
    ("servicedesk_relay_position", "gauge", "store"),
    ("servicedesk_relay_lag_events", "gauge", "store"),
    ("servicedesk_relay_published", "counter", "store topic"),
    ("servicedesk_relay_errors", "counter", "store"),
    ("servicedesk_consumer_lag_messages", "gauge", "group topic partition"),
    ("servicedesk_consumer_messages", "counter", "group topic outcome"),
    ("servicedesk_event_store_position", "gauge", "store"),
    # analytics
    ("servicedesk_tickets_opened", "counter", "tenant priority channel"),
    ("servicedesk_tickets_resolved", "counter", "tenant priority"),
    ("servicedesk_tickets_open", "gauge", "tenant status priority"),
    ("servicedesk_first_response_seconds", "histogram", "tenant"),
    ("servicedesk_resolution_seconds", "histogram", "tenant"),
    ("servicedesk_sla_breaches", "counter", "tenant metric"),
    ("servicedesk_sla_warnings", "counter", "tenant metric"),
    ("servicedesk_sla_met", "counter", "tenant metric breached"),
    ("servicedesk_article_views", "counter", "tenant channel"),
    ("servicedesk_article_ratings", "counter", "tenant helpful"),
    ("servicedesk_self_service_ended", "counter", "tenant channel outcome"),
    ("servicedesk_time_worked_minutes", "gauge", "tenant activity billable"),
    # routing
    ("servicedesk_routing_decisions", "counter", "tenant kind"),
    ("servicedesk_routing_queue_waiting", "gauge", "tenant group"),
    ("servicedesk_agent_load", "gauge", "tenant agent"),
    ("servicedesk_agent_capacity", "gauge", "tenant agent"),
    # rules
    ("servicedesk_triggers_fired", "counter", "tenant event"),
    # sla
    ("servicedesk_sla_timer_lateness_seconds", "histogram", "kind"),
    ("servicedesk_sla_timers_scheduled", "gauge", ""),
    ("servicedesk_sla_organisation_sla_passed_over", "counter", "tenant unknown"),
]
CATALOGUE = {name: (kind, frozenset(labels.split())) for name, kind, labels in _EXPORTED}
SCRAPE_LABELS = frozenset({"job", "instance"})


def family_name(name: str, kind: Kind) -> str:
    """The name on the metric's `# TYPE` line."""
    return f"{name}_total" if kind == "counter" else name


# Metric families as /metrics declares them, plus the `up` Prometheus makes: what
# metric_names_in_dashboards_and_rules() may return.
KNOWN = frozenset(family_name(name, kind) for name, (kind, _) in CATALOGUE.items()) | {"up"}

# Every series name a query may use, with its labels.
SERIES: dict[str, frozenset[str]] = {"up": SCRAPE_LABELS}
for _name, (_kind, _labels) in CATALOGUE.items():
    if _kind == "histogram":
        SERIES[f"{_name}_bucket"] = _labels | SCRAPE_LABELS | {"le"}
        SERIES[f"{_name}_sum"] = _labels | SCRAPE_LABELS
        SERIES[f"{_name}_count"] = _labels | SCRAPE_LABELS
    else:
        SERIES[family_name(_name, _kind)] = _labels | SCRAPE_LABELS

# `metric{label="…", …}`: the label matchers written on a metric.
MATCHERS = re.compile(r"(servicedesk_[a-zA-Z0-9_:]+|\bup)\s*\{([^}]*)\}")
MATCHER_LABEL = re.compile(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)")
# `by (…)`, `without (…)`, `on (…)`, `ignoring (…)`, `group_left (…)`, `group_right (…)`.
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
LEGEND_LABEL = re.compile(r"\{\{\s*([a-zA-Z_]\w*)\s*\}\}")
LABEL_VALUES = re.compile(r"label_values\((.*),\s*([a-zA-Z_]\w*)\s*\)\s*$")
GRAFANA_VARIABLE = re.compile(r"\$(?!__)\{?([a-zA-Z_]\w*)")

ALL = all_expressions()


def by_source(expressions: list[Expression]) -> list[Any]:
    return [pytest.param(expression, id=expression.source) for expression in expressions]


def provisioned_datasource_uid() -> str:
    uids = [
        line.split(":", 1)[1].strip().strip("'\"")
        for line in DATASOURCES.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("uid:")
    ]
    assert len(uids) == 1, f"{DATASOURCES.name}: expected one datasource uid, found {uids}"
    return uids[0]


def test_the_artefacts_are_there() -> None:
    names = {path.name for path in dashboard_files()}
    assert names == {"service-desk-overview.json", "sla.json", "agents-and-groups.json", "platform-health.json"}
    assert len(alert_expressions()) >= 7
    assert all(expression.expr for expression in ALL), [e.source for e in ALL if not e.expr]


def test_every_metric_queried_is_one_the_services_export() -> None:
    usages = metric_usages()
    unknown = {name: places for name, places in usages.items() if name not in SERIES}
    assert not unknown, f"metrics no service exports (or with the wrong suffix): {unknown}"
    assert metric_names_in_dashboards_and_rules() <= KNOWN


def test_every_exported_metric_is_on_a_dashboard() -> None:
    charted = {base_name(name) for expression in dashboard_expressions() for name in metric_names(expression.expr)}
    missing = KNOWN - charted
    assert not missing, f"exported but on no dashboard: {sorted(missing)}"


def test_names_for_the_live_comparison() -> None:
    names = metric_names_in_dashboards_and_rules()
    assert names & NOT_ON_METRICS_ENDPOINT == {"up"}
    assert "servicedesk_relay_published_total" in names  # counters keep `_total`, as on their `# TYPE` line
    assert "servicedesk_sla_timer_lateness_seconds" in names  # histograms are named without the suffix
    assert not any(name.endswith(HISTOGRAM_SUFFIXES) for name in names)


def test_metric_names_ignore_label_values_and_comments() -> None:
    expr = 'sum by (le) (rate(servicedesk_x_bucket{kind="servicedesk_not_a_metric", up="up"}[5m])) # up'
    assert metric_names(expr) == {"servicedesk_x_bucket"}
    assert metric_names('up{job="sla"} == 0 and on (job) setup') == {"up"}
    assert base_name("servicedesk_resolution_seconds_count") == "servicedesk_resolution_seconds"
    assert base_name("servicedesk_relay_published_total") == "servicedesk_relay_published_total"


@pytest.mark.parametrize("expression", by_source(ALL))
def test_labels_belong_to_the_metrics_queried(expression: Expression) -> None:
    code = without_strings(expression.expr)
    names = metric_names(expression.expr) & SERIES.keys()
    known_here = frozenset().union(*(SERIES[name] for name in names)) if names else SCRAPE_LABELS
    for name, matchers in MATCHERS.findall(code):
        for label in MATCHER_LABEL.findall(matchers):
            assert label in SERIES.get(name, frozenset()), f"{name} has no label {label!r}"
    grouped = {label.strip() for group in GROUPING.findall(code) for label in group.split(",") if label.strip()}
    assert grouped <= known_here, f"grouping by labels none of {sorted(names)} has: {sorted(grouped - known_here)}"
    legend = set(LEGEND_LABEL.findall(expression.legend))
    assert legend <= known_here, f"legend names labels none of {sorted(names)} has: {sorted(legend - known_here)}"


@pytest.mark.parametrize("path", dashboard_files(), ids=lambda path: path.name)
def test_dashboards_are_provisionable(path: Path) -> None:
    uid = provisioned_datasource_uid()
    dashboard = load_dashboard(path)
    assert dashboard["schemaVersion"] >= 36
    assert dashboard["title"]
    assert 0 < len(dashboard["uid"]) <= 40
    variables = {variable["name"]: variable for variable in dashboard.get("templating", {}).get("list", [])}
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"]["uid"] == uid, f"variable ${variable['name']}"
            query = LABEL_VALUES.match(variable_query(variable))
            assert query, f"variable ${variable['name']}: expected label_values(metric, label)"
            for name in metric_names(query.group(1)):
                assert query.group(2) in SERIES[name], f"variable ${variable['name']}: {name} has no {query.group(2)}"
    ids: set[int] = set()
    cells: set[tuple[int, int]] = set()
    for panel in panels(dashboard):
        title = panel.get("title")
        assert panel["id"] not in ids, f"panel id {panel['id']} twice"
        ids.add(panel["id"])
        grid = panel["gridPos"]
        assert all(isinstance(grid[key], int) for key in "hwxy"), title
        assert grid["w"] > 0, title
        assert grid["h"] > 0, title
        assert 0 <= grid["x"] <= 24 - grid["w"], title
        covered = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not covered & cells, f"panel {title!r} overlaps another"
        cells |= covered
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == uid, title
        assert panel["targets"], f"panel {title!r} queries nothing"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid, title
            assert target["refId"], title
            assert target["expr"], title
            used = set(GRAFANA_VARIABLE.findall(target["expr"]))
            assert used <= variables.keys(), f"panel {title!r} uses undefined variables {used - variables.keys()}"


def test_every_alert_has_for_severity_and_annotations() -> None:
    lines = [line.strip().removeprefix("- ") for line in ALERTS.read_text(encoding="utf-8").splitlines()]
    alerts = [line for line in lines if line.startswith("alert:")]
    assert len(alerts) == len(alert_expressions())
    for key in ("for:", "severity:", "summary:", "description:"):
        assert sum(line.startswith(key) for line in lines) == len(alerts), key
    severities = {line.split(":", 1)[1].strip() for line in lines if line.startswith("severity:")}
    assert severities <= {"critical", "warning"}
