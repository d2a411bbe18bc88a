"""The PromQL of the monitoring artefacts: Grafana dashboards and Prometheus alert rules.

Reads deploy/grafana/dashboards/*.json and deploy/prometheus/alerts.yml (without PyYAML: alerts.yml
is read line by line, see `alert_expressions`) and says which metrics they query.

`metric_names_in_dashboards_and_rules()` is for tests that compare against what the services really
export; tests/unit/test_monitoring.py checks the same names offline against the metric catalogue.

Run as a script (`python3 tests/monitoring.py rules`), it prints the dashboards' expressions as a
Prometheus rules file, so that deploy/prometheus/check.sh can have promtool parse them. It uses only
the standard library so that it runs on the system Python too.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
DATASOURCES = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

# Series Prometheus makes itself when it scrapes: never on a service's /metrics.
NOT_ON_METRICS_ENDPOINT = frozenset({"up"})

# Grafana's own variables, replaced by representative values where an expression must parse as PromQL.
GRAFANA_INTERVALS = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h"}

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_COMMENT = re.compile(r"#[^\n]*")
_MATCHERS = re.compile(r"\{[^{}]*\}")
_METRIC = re.compile(r"(?<![\w:$])(servicedesk_[a-zA-Z0-9_:]+|up)(?![\w:])")
_BLOCK_SCALAR = re.compile(r"[|>][+-]?")


@dataclass(frozen=True)
class Expression:
    """One PromQL expression and where it was found."""

    source: str
    expr: str
    legend: str = ""


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def load_dashboard(path: Path) -> dict[str, Any]:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(dashboard, dict):
        raise ValueError(f"{path.name}: not a JSON object")
    return dashboard


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, including those folded into collapsed rows."""
    found: list[dict[str, Any]] = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def variable_query(variable: dict[str, Any]) -> str:
    query = variable.get("query", "")
    return str(query.get("query", "")) if isinstance(query, dict) else str(query)


def dashboard_expressions() -> list[Expression]:
    """Every target expression and every query variable's query, of every dashboard."""
    found: list[Expression] = []
    for path in dashboard_files():
        dashboard = load_dashboard(path)
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                source = f"{path.name}: panel {panel.get('title')!r} target {target.get('refId')}"
                found.append(Expression(source, str(target.get("expr", "")), str(target.get("legendFormat", ""))))
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("type") == "query":
                found.append(Expression(f"{path.name}: variable ${variable.get('name')}", variable_query(variable)))
    return found


def alert_expressions(path: Path = ALERTS) -> list[Expression]:
    """The `expr:` of every rule in a rules file, read line by line.

    Understands what alerts.yml uses: `expr:` followed by a plain one-line value, or by a block scalar
    (`|`, `>`, with an optional chomping sign) whose lines are indented deeper than the `expr:` key.
    A rule's name comes from the `alert:` or `record:` line before it.
    """
    found: list[Expression] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    name = "?"
    i = 0
    while i < len(lines):
        line = lines[i]
        key, _, value = line.strip().removeprefix("- ").partition(":")
        if key in ("alert", "record"):
            name = value.strip()
        if key != "expr":
            i += 1
            continue
        value = value.strip()
        if _BLOCK_SCALAR.fullmatch(value):
            indent = len(line) - len(line.lstrip())
            body: list[str] = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                body.append(lines[i].strip())
                i += 1
            expr = "\n".join(body).strip()
        else:
            expr = value.strip("'\"") if value[:1] in "'\"" else value
            i += 1
        found.append(Expression(f"{path.name}: {name}", expr))
    return found


def all_expressions() -> list[Expression]:
    return dashboard_expressions() + alert_expressions()


def without_strings(expr: str) -> str:
    """The expression with string literals emptied and comments removed: label values are not metric names."""
    return _COMMENT.sub("", _STRING.sub('""', expr))


def metric_names(expr: str) -> set[str]:
    """The metric names an expression queries, exactly as written (`_total`, `_bucket` … included)."""
    return set(_METRIC.findall(_MATCHERS.sub("{}", without_strings(expr))))


def base_name(name: str) -> str:
    """A histogram's series name reduced to the histogram's name; any other name unchanged."""
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def metric_usages() -> dict[str, list[str]]:
    """Each metric name as written in a dashboard or rule, with the places that use it."""
    usages: dict[str, list[str]] = {}
    for expression in all_expressions():
        for name in sorted(metric_names(expression.expr)):
            usages.setdefault(name, []).append(expression.source)
    return usages


def metric_names_in_dashboards_and_rules() -> frozenset[str]:
    """The metrics the dashboards and alert rules query, named as a service's /metrics declares them.

    Counters keep their `_total` (prometheus_client writes `# TYPE servicedesk_x_total counter`),
    histograms are named without `_bucket`/`_sum`/`_count` (`# TYPE servicedesk_y_seconds histogram`).
    Includes `up`, which Prometheus makes itself: subtract NOT_ON_METRICS_ENDPOINT before looking for
    the names in a scrape.
    """
    return frozenset(base_name(name) for name in metric_usages())


def promql(expr: str) -> str:
    """The expression with Grafana's interval variables replaced, as Prometheus would receive it."""
    for variable, value in GRAFANA_INTERVALS.items():
        expr = expr.replace(variable, value)
    return expr


def dashboard_rules_file() -> str:
    """The dashboards' target expressions as recording rules, for `promtool check rules` to parse."""
    lines = ["groups:", "  - name: dashboards", "    rules:"]
    number = 0
    for expression in dashboard_expressions():
        if expression.expr.startswith("label_values("):
            continue  # a Grafana variable query, not PromQL
        number += 1
        lines.append(f"      # {expression.source}")
        lines.append(f"      - record: dashboard_expression_{number}")
        lines.append(f"        expr: {json.dumps(promql(expression.expr))}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["rules"]:
        sys.stdout.write(dashboard_rules_file())
        return 0
    if argv == ["names"]:
        sys.stdout.write("".join(f"{name}\n" for name in sorted(metric_names_in_dashboards_and_rules())))
        return 0
    sys.stderr.write("usage: monitoring.py rules|names\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
