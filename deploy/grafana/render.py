"""Render each Grafana dashboard in deploy/grafana/dashboards/ to a PNG, with real data.

There is no Grafana here, so this is a small faithful renderer: it runs the five services on
real Kafka and PostgreSQL (a fresh database and Kafka namespace, as the tests do), points a
real Prometheus at their /metrics, drives a few minutes of desk traffic through the gateway,
then evaluates every panel's PromQL through Prometheus' HTTP API (query_range for time series,
instant queries for stat and bar gauge targets marked instant) and draws the dashboard with
matplotlib: panels where their gridPos puts them, titles, legends from legendFormat, units,
thresholds and value mappings. Nothing is made up: a panel whose queries return nothing says
"No data".

    export POSTGRES_HOST=... KAFKA_BOOTSTRAP_SERVERS=...   # else tests.infra starts them
    .venv/bin/python deploy/grafana/render.py [--seconds 180] [--rate 2.5] [--out docs/dashboards]

`--data DIR` keeps Prometheus' TSDB in DIR; `--render-only --data DIR` draws again from a
kept TSDB without a new load run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import FancyBboxPatch, Rectangle  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator  # noqa: E402

from tests.client import headers, ticket_form  # noqa: E402
from tests.harness import Desk, desk_settings, free_port  # noqa: E402
from tests.infra import kafka, postgres  # noqa: E402

DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
JOBS = ("intake", "routing", "sla", "analytics", "knowledge")
SCRAPE_SECONDS = 2
RATE_INTERVAL = "30s"  # $__rate_interval: a window several scrapes wide, as Grafana's would be
STEP_SECONDS = 5  # query_range step, also $__interval

# -- the load run ---------------------------------------------------------------------------

ARTICLES = ("VPN drops", "Printer does not print", "Password reset", "Mail is slow")

# Tenant -> share of the traffic. Two tenants so the "by tenant" panels have something to compare.
TENANTS = {"acme": 0.75, "globex": 0.25}
SETUP: dict[str, dict[str, Any]] = {
    "acme": {
        "groups": {
            "second-line": {"tier": 2},
            "first-line": {"tier": 1, "escalates_to": "second-line", "escalate_on": ["breach"], "default": True},
        },
        "agents": {"ann": ("first-line", 3), "bob": ("first-line", 3), "cat": ("first-line", 3),
                   "dan": ("first-line", 2), "eve": ("second-line", 4), "fay": ("second-line", 2)},
        "policies": {
            "urgent": {"match": {"priorities": ["P1"]}, "warn_at": [50, 90],
                       "targets": {"first_response": "PT10S", "next_response": "PT20S", "resolution": "PT45S"}},
            "standard": {"warn_at": [50, 90],
                         "targets": {"first_response": "PT20S", "next_response": "PT30S", "resolution": "PT60S"}},
        },
    },
    "globex": {
        "groups": {"support": {"tier": 1, "default": True}},
        "agents": {"gus": ("support", 3), "hal": ("support", 3)},
        "policies": {
            "standard": {"warn_at": [50, 90],
                         "targets": {"first_response": "PT30S", "next_response": "PT30S", "resolution": "PT90S"}},
        },
    },
}  # fmt: skip
PRIORITIES = {"P1": 0.1, "P2": 0.3, "P3": 0.45, "P4": 0.15}
CHANNELS = {"email": 0.45, "portal": 0.25, "chat": 0.15, "phone": 0.15}
CATEGORIES = ("network", "access", "hardware", "billing")


@dataclass
class Tally:
    opened: int = 0
    replied: int = 0
    customer_wrote: int = 0
    resolved: int = 0
    rated: int = 0
    refused: dict[str, int] = field(default_factory=dict)

    def refuse(self, what: str) -> None:
        self.refused[what] = self.refused.get(what, 0) + 1


def pick(weights: dict[str, float]) -> str:
    return random.choices(list(weights), weights=list(weights.values()))[0]


def set_up_desk(gateway: str) -> None:
    with httpx.Client(base_url=gateway, timeout=10.0) as client:
        for tenant, setup in SETUP.items():

            def put(path: str, body: dict[str, Any], tenant: str = tenant) -> None:
                client.put(path, json=body, headers=headers(tenant)).raise_for_status()

            for group, spec in setup["groups"].items():
                put(f"/v1/routing/groups/{group}", spec)
            for agent, (group, capacity) in setup["agents"].items():
                put(f"/v1/routing/agents/{agent}", {"groups": [group], "capacity": capacity})
                put(f"/v1/routing/agents/{agent}/presence", {"presence": "online"})
            for policy, spec in setup["policies"].items():
                put(f"/v1/sla/policies/{policy}", spec)
            for title in ARTICLES:  # the knowledge base the customers look in before they write
                article = {"language": "en", "title": title, "body": f"{title}: what to do.", "visibility": "public"}
                written = client.post("/v1/kb/articles", json=article, headers=headers(tenant))
                written.raise_for_status()
                client.post(
                    f"/v1/kb/articles/{written.json()['id']}/publish", headers=headers(tenant)
                ).raise_for_status()


async def work_ticket(client: httpx.AsyncClient, tenant: str, ticket_id: str, requester: str, tally: Tally) -> None:
    """One ticket's life: most get a public reply, some a customer follow-up, about half are resolved and rated."""

    async def post(what: str, path: str, body: dict[str, Any], actor: str = "agent-7") -> bool:
        try:
            reply = await client.post(f"/v1/tickets/{ticket_id}/{path}", json=body,
                                      headers=headers(tenant, actor))  # fmt: skip
        except httpx.TransportError:
            tally.refuse(f"{what}: transport error")
            return False
        if reply.status_code >= 300:
            tally.refuse(f"{what}: {reply.status_code}")
            return False
        return True

    if random.random() > 0.8:
        return  # nobody looks at it: it breaches and stays in the backlog
    await asyncio.sleep(random.uniform(3, 35))
    await post("start work", "start-work", {"reason": "looking into it"})
    if await post("reply", "comments", {"body": "We are on it.", "public": True, "channel": "email"}):
        tally.replied += 1
    if random.random() < 0.3:
        await asyncio.sleep(random.uniform(2, 10))
        body = {"body": "Still broken here.", "public": True, "channel": "email"}
        if await post("customer comment", "comments", body, actor=requester):
            tally.customer_wrote += 1
            await asyncio.sleep(random.uniform(5, 40))
            await post("reply", "comments", {"body": "Trying another fix.", "public": True, "channel": "email"})
    if random.random() < 0.65:
        await asyncio.sleep(random.uniform(5, 70))
        if await post("resolve", "resolve", {"resolution": "Fixed the VPN profile.", "reason": "fixed"}):
            tally.resolved += 1
            if random.random() < 0.7:
                await asyncio.sleep(random.uniform(1, 10))
                score = random.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 4, 5])[0]
                if await post("rating", "rating", {"score": score}, actor=requester):
                    tally.rated += 1


async def look_first(client: httpx.AsyncClient, tenant: str, text: str, tally: Tally) -> bool:
    """A customer looks in the knowledge base before writing: suggestions, then an article read; about
    a third of the time it answers them (a deflection: they write no ticket). Whether it did."""
    public = f"/v1/kb/public/{tenant}"
    try:
        found = await client.post(f"{public}/suggestions", json={"text": text})
        hits = found.json()["articles"] if found.status_code == 200 else []
        if not hits:
            return False
        channel = random.choice(("portal", "chat"))
        await client.post(f"{public}/articles/{hits[0]['id']}/views", json={"channel": channel})
        solved = random.random() < 0.3
        ended = {"channel": channel, "article_id": hits[0]["id"], "outcome": "solved" if solved else "ticket_opened"}
        await client.post(f"{public}/deflections", json=ended)
        return solved
    except httpx.TransportError:
        tally.refuse("knowledge: transport error")
        return False


async def drive(gateway: str, seconds: float, rate: float) -> Tally:
    """Open tickets at `rate` a second (Poisson arrivals) for `seconds` and work them; an agent
    goes offline for a minute half way through, so tickets go back to the queue."""
    tally = Tally()
    tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(base_url=gateway, timeout=15.0) as client:

        async def presence(delay: float, state: str) -> None:
            await asyncio.sleep(delay)
            reply = await client.put("/v1/routing/agents/ann/presence", json={"presence": state},
                                     headers=headers("acme"))  # fmt: skip
            reply.raise_for_status()

        tasks |= {asyncio.create_task(presence(seconds / 2, "offline")),
                  asyncio.create_task(presence(seconds / 2 + 60, "online"))}  # fmt: skip
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(random.expovariate(rate))
            tenant, n = pick(TENANTS), n + 1
            requester = f"customer-{n % 40}"
            if await look_first(client, tenant, random.choice(ARTICLES), tally):
                continue
            form = ticket_form(priority=pick(PRIORITIES), channel=pick(CHANNELS), requester_id=requester,
                               category=random.choice(CATEGORIES), title=f"Ticket {n}")  # fmt: skip
            try:
                reply = await client.post("/v1/tickets", json=form, headers=headers(tenant))
            except httpx.TransportError:
                tally.refuse("open: transport error")
                continue
            if reply.status_code != 201:
                tally.refuse(f"open: {reply.status_code}")
                continue
            tally.opened += 1
            task = asyncio.create_task(work_ticket(client, tenant, reply.json()["id"], requester, tally))
            tasks.add(task)
        await asyncio.gather(*tasks)
    return tally


# -- Prometheus -----------------------------------------------------------------------------


@dataclass
class Prometheus:
    url: str

    def get(self, path: str, params: dict[str, Any]) -> Any:
        reply = httpx.get(f"{self.url}{path}", params=params, timeout=30.0)
        payload = reply.json()
        if payload.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {payload.get('error', reply.text)}")
        return payload["data"]

    def instant(self, expr: str, at: float) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query", {"query": expr, "time": at})
        return list(data["result"])

    def range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step})
        return list(data["result"])

    def label_values(self, label: str, match: str | None, start: float, end: float) -> list[str]:
        params: dict[str, Any] = {"start": start, "end": end}
        if match:
            params["match[]"] = match
        return sorted(self.get(f"/api/v1/label/{label}/values", params))


@contextmanager
def prometheus(data_dir: Path, targets: dict[str, int]) -> Iterator[Prometheus]:
    """A Prometheus on 127.0.0.1 scraping `targets` (job -> port) every 2 s, with the desk's alert rules."""
    port = free_port()
    jobs = "".join(
        f"  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{p}']\n" for job, p in targets.items()
    )
    config = data_dir / "prometheus.yml"
    config.write_text(
        f"global:\n  scrape_interval: {SCRAPE_SECONDS}s\n  scrape_timeout: {SCRAPE_SECONDS}s\n"
        f"  evaluation_interval: {SCRAPE_SECONDS}s\nrule_files:\n  - {ALERTS}\n"
        f"scrape_configs:{' []' if not jobs else ''}\n{jobs}"
    )
    log = (data_dir / "prometheus.log").open("ab")
    process = subprocess.Popen(
        ["/usr/bin/prometheus", f"--config.file={config}", f"--storage.tsdb.path={data_dir / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=30d"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Prometheus did not start; see {data_dir / 'prometheus.log'}")
            time.sleep(0.5)
        yield Prometheus(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def load_run(data_dir: Path, seconds: float, rate: float) -> dict[str, Any]:
    """Run the desk under load with Prometheus scraping it; the time window and what was done."""
    broker, pg = kafka(), postgres()
    with pg.fresh_database() as dbname, tempfile.TemporaryDirectory() as tmp:
        desk: Desk = desk_settings(Path(tmp), "postgres", broker, pg, dbname)
        try:
            services = {
                name: desk.service(name).start() for name in ("analytics", "routing", "sla", "knowledge", "intake")
            }
            with prometheus(data_dir, {job: services[job].port for job in JOBS}) as prom:
                start = time.time()
                set_up_desk(services["intake"].url)
                time.sleep(15)  # a quiet baseline before the traffic
                print(f"load: {rate}/s for {seconds:.0f} s", flush=True)
                tally = asyncio.run(drive(services["intake"].url, seconds, rate))
                print(f"load done: {tally}; letting timers fire", flush=True)
                time.sleep(45)
                end = time.time()
                wait_for_last_scrape(prom, end)
        finally:
            desk.stop_all()
    run = {"start": start, "end": end, "seconds": seconds, "rate": rate, "tally": tally.__dict__}
    (data_dir / "run.json").write_text(json.dumps(run, indent=2))
    return run


def wait_for_last_scrape(prom: Prometheus, end: float) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        last = prom.instant("min(timestamp(up))", time.time())
        if last and float(last[0]["value"][1]) >= end:
            return
        time.sleep(0.5)


# -- Grafana templating ---------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.*),\s*)?(\w+)\s*\)\s*$", re.DOTALL)
_REGEX_SPECIAL = re.compile(r"([\\^$.|?*+()\[\]{}])")


def interpolate(text: str, values: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g is not None)
        return values.get(name, match.group(0))

    return _VARIABLE.sub(substitute, text)


def resolve_variables(
    dashboard: dict[str, Any], prom: Prometheus, builtins: dict[str, str], start: float, end: float
) -> tuple[dict[str, str], dict[str, str]]:
    """Each template variable's value as Grafana would interpolate it (its current selection; All is
    every value label_values finds, as a regex alternation), and how to show it in the header."""
    values, shown = dict(builtins), {}
    for variable in dashboard.get("templating", {}).get("list", []):
        name, query = variable["name"], variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else str(query or "")
        current = variable.get("current", {}).get("value", [])
        current = current if isinstance(current, list) else [current]
        if "$__all" not in current and current:
            chosen = [str(v) for v in current]
            label = ", ".join(chosen)
        else:
            match = _LABEL_VALUES.match(interpolate(query, values))
            chosen = prom.label_values(match.group(2), match.group(1), start, end) if match else []
            label = f"All ({', '.join(chosen) or 'none found'})"
        if variable.get("allValue") and "$__all" in current:
            values[name] = variable["allValue"]
        elif len(chosen) == 1:
            values[name] = _REGEX_SPECIAL.sub(r"\\\\\1", chosen[0])
        else:
            values[name] = "(" + "|".join(_REGEX_SPECIAL.sub(r"\\\\\1", v) for v in chosen) + ")" if chosen else ".*"
        shown[name] = label
    return values, shown


def legend(target: dict[str, Any], metric: dict[str, str], expr: str) -> str:
    pattern = target.get("legendFormat") or ""
    if pattern and pattern != "__auto":
        return re.sub(r"\{\{\s*([\w.]+)\s*\}\}", lambda m: metric.get(m.group(1), ""), pattern).strip()
    labels = {k: v for k, v in metric.items() if k != "__name__"}
    if not metric:
        return expr
    inner = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{metric.get('__name__', '')}{{{inner}}}"


# -- data -----------------------------------------------------------------------------------


@dataclass
class Series:
    name: str
    times: list[float]  # Unix seconds
    values: list[float]  # NaN where Prometheus had no point

    def last(self) -> float | None:
        real = [v for v in self.values if not math.isnan(v)]
        return real[-1] if real else None

    def mean(self) -> float | None:
        real = [v for v in self.values if not math.isnan(v)]
        return sum(real) / len(real) if real else None

    def max(self) -> float | None:
        real = [v for v in self.values if not math.isnan(v)]
        return max(real) if real else None


@dataclass
class Window:
    start: float
    end: float

    @property
    def steps(self) -> list[float]:
        first = math.floor(self.start / STEP_SECONDS) * STEP_SECONDS
        return [float(t) for t in range(int(first), int(self.end) + 1, STEP_SECONDS)]


def panel_data(panel: dict[str, Any], prom: Prometheus, values: dict[str, str], window: Window) -> list[Series]:
    series: list[Series] = []
    grid = window.steps
    for target in panel.get("targets", []):
        if target.get("hide") or not target.get("expr"):
            continue
        expr = interpolate(target["expr"], values)
        if target.get("instant") and not target.get("range"):
            for row in prom.instant(expr, window.end):
                at, value = row["value"]
                series.append(Series(legend(target, row["metric"], expr), [float(at)], [float(value)]))
            continue
        for row in prom.range(expr, grid[0], grid[-1], STEP_SECONDS):
            points = {float(t): float(v) for t, v in row["values"]}
            on_grid = [points.get(t, math.nan) for t in grid]
            series.append(Series(legend(target, row["metric"], expr), grid, on_grid))
    return series


# -- units and colours ----------------------------------------------------------------------

GRAFANA_COLOURS = {
    "green": "#73BF69", "red": "#F2495C", "orange": "#FF9830", "yellow": "#FADE2A", "blue": "#5794F2",
    "purple": "#B877D9", "dark-red": "#C4162A", "dark-green": "#37872D", "dark-orange": "#FA6400",
    "text": "#CCCCDC", "transparent": "#00000000",
}  # fmt: skip
PALETTE = ["#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0", "#508642",
           "#CCA300", "#447EBF", "#C15C17", "#890F02", "#0A437C", "#6D1F62", "#584477"]  # fmt: skip
BACKGROUND, PANEL, BORDER, TEXT, MUTED = "#111217", "#181B1F", "#2A2D35", "#CCCCDC", "#8E8E99"


def colour(name: str) -> str:
    return GRAFANA_COLOURS.get(name, name)


def threshold_colour(defaults: dict[str, Any], value: float | None) -> str:
    steps = defaults.get("thresholds", {}).get("steps", [])
    chosen = "green"
    for step in steps:
        if step.get("value") is None or (value is not None and not math.isnan(value) and value >= step["value"]):
            chosen = step["color"]
    return colour(chosen)


def _number(value: float, decimals: int | None) -> str:
    if decimals is not None:
        return f"{value:.{decimals}f}"
    size = abs(value)
    places = 0 if size >= 100 or size == int(size) else 1 if size >= 10 else 2 if size >= 0.01 else 4
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _short(value: float, decimals: int | None) -> str:
    for factor, suffix in ((1e12, " Tri"), (1e9, " Bil"), (1e6, " Mil"), (1e3, " K")):
        if abs(value) >= factor:
            return _number(value / factor, decimals) + suffix
    return _number(value, decimals)


def _seconds(value: float, decimals: int | None) -> str:
    size = abs(value)
    if size == 0:
        return "0 s"
    for limit, factor, suffix in ((1e-3, 1e-6, "µs"), (1, 1e-3, "ms"), (60, 1, "s"), (3600, 60, "min"),
                                  (86400, 3600, "hour")):  # fmt: skip
        if size < limit:
            return f"{_number(value / factor, decimals)} {suffix}"
    return f"{_number(value / 86400, decimals)} day"


def formatted(value: float | None, unit: str | None, decimals: int | None = None) -> str:
    if value is None:
        return "No data"
    if math.isnan(value):
        return "NaN"
    match unit:
        case "percentunit":
            return f"{_number(value * 100, decimals)}%"
        case "percent":
            return f"{_number(value, decimals)}%"
        case "s":
            return _seconds(value, decimals)
        case "ms":
            return _seconds(value / 1000, decimals)
        case "reqps":
            return f"{_short(value, decimals)} req/s"
        case "none":
            return _number(value, decimals)
        case _:
            return _short(value, decimals)


def mapped(defaults: dict[str, Any], value: float | None) -> str | None:
    """The text of a value mapping that matches `value`, if any."""
    if value is None or math.isnan(value):
        return None
    for mapping in defaults.get("mappings") or []:
        if mapping.get("type") == "value":
            key = str(int(value)) if value == int(value) else str(value)
            if key in mapping.get("options", {}):
                return str(mapping["options"][key].get("text"))
    return None


# -- drawing --------------------------------------------------------------------------------

COLUMN_INCHES = 0.75  # 24 columns -> 18 inches
ROW_INCHES = 0.36  # one gridPos height unit
HEADER_INCHES = 0.9
GAP_INCHES = 0.05


@dataclass
class Box:
    """A rectangle in inches from the figure's top-left corner."""

    left: float
    top: float
    width: float
    height: float


class Canvas:
    def __init__(self, width: float, height: float) -> None:
        self.width, self.height = width, height
        self.figure: Figure = plt.figure(figsize=(width, height), dpi=100, facecolor=BACKGROUND)

    def fraction(self, box: Box) -> tuple[float, float, float, float]:
        return (box.left / self.width, 1 - (box.top + box.height) / self.height,
                box.width / self.width, box.height / self.height)  # fmt: skip

    def point(self, left: float, top: float) -> tuple[float, float]:
        return left / self.width, 1 - top / self.height

    def text(self, left: float, top: float, text: str, **style: Any) -> None:
        x, y = self.point(left, top)
        look: dict[str, Any] = {"color": TEXT, "fontsize": 8, "va": "top", "ha": "left"}
        self.figure.text(x, y, text, **(look | style))

    def rectangle(self, box: Box, face: str, edge: str = "none", rounded: bool = False) -> None:
        x, y, w, h = self.fraction(box)
        if rounded:
            patch: Rectangle | FancyBboxPatch = FancyBboxPatch(
                (x, y), w, h, boxstyle="round,pad=0,rounding_size=0.003", transform=self.figure.transFigure,
                facecolor=face, edgecolor=edge, linewidth=0.8, zorder=-5,
            )  # fmt: skip
        else:
            patch = Rectangle(
                (x, y), w, h, transform=self.figure.transFigure, facecolor=face, edgecolor=edge, zorder=-5
            )
        self.figure.patches.append(patch)

    def swatch(self, left: float, top: float, tint: str) -> None:
        """A legend's short coloured line, 0.18 in long."""
        (x0, y), (x1, _) = self.point(left, top), self.point(left + 0.18, top)
        self.figure.add_artist(Line2D([x0, x1], [y, y], color=tint, linewidth=2.5, transform=self.figure.transFigure))

    def axes(self, box: Box) -> Axes:
        ax: Axes = self.figure.add_axes(self.fraction(box))
        ax.set_facecolor("none")
        return ax


def fit_text(text: str, box: Box, most: float) -> float:
    """A font size (points) at which `text` fits in `box`."""
    by_height = box.height * 72 * 0.8
    by_width = box.width * 72 / max(len(text) * 0.62, 1)
    return max(6.0, min(most, by_height, by_width))


def draw_no_data(canvas: Canvas, box: Box) -> None:
    canvas.text(box.left + box.width / 2, box.top + box.height / 2, "No data", color=MUTED, fontsize=11,
                ha="center", va="center")  # fmt: skip


def draw_stat(canvas: Canvas, panel: dict[str, Any], series: list[Series], box: Box) -> None:
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    options = panel.get("options", {})
    if not series:
        draw_no_data(canvas, box)
        return
    count = len(series)
    if box.width / count >= max(1.2, box.height * 0.6):
        columns = count  # Grafana's auto orientation: side by side in a wide panel
    else:
        columns = max(1, min(count, round(math.sqrt(count * box.width / box.height))))
    rows = math.ceil(count / columns)
    width, height = box.width / columns, box.height / rows
    name_box = Box(0, 0, width - 0.06, min(0.3, height * 0.3))
    name_size = min(fit_text(one.name, name_box, 10) for one in series)
    for i, one in enumerate(series):
        tile = Box(box.left + (i % columns) * width + 0.03, box.top + (i // columns) * height + 0.03,
                   width - 0.06, height - 0.06)  # fmt: skip
        value = one.last()
        tint = threshold_colour(defaults, value)
        text = mapped(defaults, value) or formatted(value, defaults.get("unit"), defaults.get("decimals"))
        background = options.get("colorMode") == "background"
        if background:
            canvas.rectangle(tile, tint, rounded=True)
        ink = "#FFFFFF" if background else tint
        value_box = tile
        if count > 1:
            name_box = Box(tile.left, tile.top + 0.05, tile.width, min(0.3, tile.height * 0.3))
            canvas.text(tile.left + tile.width / 2, name_box.top, one.name, ha="center", color=ink, fontsize=name_size)
            value_box = Box(tile.left, name_box.top + name_box.height, tile.width, tile.height - name_box.height)
        if options.get("graphMode") == "area" and len(one.times) > 1:
            spark = Box(tile.left, tile.top + tile.height * 0.55, tile.width, tile.height * 0.45)
            ax = canvas.axes(spark)
            ax.plot(one.times, one.values, color=ink, linewidth=1)
            ax.fill_between(one.times, [0 if math.isnan(v) else v for v in one.values], color=ink, alpha=0.15)
            ax.set_axis_off()
            value_box = Box(tile.left, tile.top, tile.width, tile.height * 0.55)
        canvas.text(value_box.left + value_box.width / 2, value_box.top + value_box.height / 2, text, ha="center",
                    va="center", color=ink, fontsize=fit_text(text, value_box, 34), fontweight="bold")  # fmt: skip


def draw_bargauge(canvas: Canvas, panel: dict[str, Any], series: list[Series], box: Box) -> None:
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    if not series:
        draw_no_data(canvas, box)
        return
    numbers = [s.last() for s in series]
    real = [v for v in numbers if v is not None and not math.isnan(v)]
    low = defaults.get("min", min([0.0, *real]))
    high = defaults.get("max", max(real, default=1.0))
    high = high if high > low else low + 1
    row = min(0.42, box.height / len(series))
    shown = series[: max(1, int(box.height // row))]
    label_width = min(box.width * 0.35, max(len(s.name) for s in shown) * 0.065 + 0.1)
    value_width = 0.75
    for i, one in enumerate(shown):
        value = one.last()
        text = mapped(defaults, value) or formatted(value, defaults.get("unit"), defaults.get("decimals"))
        top = box.top + i * row
        tint = threshold_colour(defaults, value)
        canvas.text(box.left, top + row / 2, one.name, va="center", fontsize=min(8, row * 72 * 0.5))
        bar = Box(box.left + label_width, top + row * 0.15, box.width - label_width - value_width, row * 0.7)
        canvas.rectangle(bar, "#22252B")
        share = 0.0 if value is None or math.isnan(value) else min(1.0, max(0.0, (value - low) / (high - low)))
        if share > 0:
            canvas.rectangle(Box(bar.left, bar.top, bar.width * share, bar.height), tint)
        canvas.text(box.left + box.width - 0.05, top + row / 2, text, ha="right", va="center", color=tint,
                    fontsize=min(12, row * 72 * 0.55), fontweight="bold")  # fmt: skip
    if len(shown) < len(series):
        canvas.text(box.left, box.top + box.height, f"… {len(series) - len(shown)} more", color=MUTED, va="bottom")


def legend_lines(names: list[str], width: float) -> list[list[int]]:
    """Series indexes per legend line, flowing entries left to right as Grafana's list legend does."""
    lines: list[list[int]] = [[]]
    used = 0.0
    for i, name in enumerate(names):
        needed = 0.3 + len(name) * 0.055
        if lines[-1] and used + needed > width:
            lines.append([])
            used = 0.0
        lines[-1].append(i)
        used += needed
    return lines


def draw_timeseries(canvas: Canvas, panel: dict[str, Any], series: list[Series], box: Box) -> None:
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    custom = defaults.get("custom", {})
    legend_options = panel.get("options", {}).get("legend", {})
    if not series:
        draw_no_data(canvas, box)
        return
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(series))]
    unit, line = defaults.get("unit"), 0.16
    table = legend_options.get("displayMode") == "table"
    calcs = [c for c in legend_options.get("calcs", []) if c in ("mean", "max", "lastNotNull")]
    if not legend_options.get("showLegend", True) or legend_options.get("displayMode") == "hidden":
        rows: list[list[int]] = []
    elif table:
        rows = [[i] for i in range(len(series))]
    else:
        rows = legend_lines([s.name for s in series], box.width)
    room = min(len(rows) + (1 if table else 0), max(1, int(box.height * 0.45 / line)))
    legend_height = room * line
    plot = Box(box.left + 0.55, box.top + 0.05, box.width - 0.65, box.height - legend_height - 0.35)
    ax = canvas.axes(plot)
    stacked = custom.get("stacking", {}).get("mode") == "normal"
    base = [0.0] * len(series[0].values)
    alpha = custom.get("fillOpacity", 0) / 100
    for one, tint in zip(series, colours, strict=True):
        values = one.values
        if stacked and len(values) == len(base):
            summed = [b + (0 if math.isnan(v) else v) for b, v in zip(base, values, strict=True)]
            drawn = [t if not math.isnan(v) else math.nan for t, v in zip(summed, values, strict=True)]
            ax.fill_between(one.times, base, summed, color=tint, alpha=alpha, linewidth=0)
            ax.plot(one.times, drawn, color=tint, linewidth=custom.get("lineWidth", 1))
            base = summed
            continue
        ax.plot(one.times, values, color=tint, linewidth=custom.get("lineWidth", 1))
        if alpha:
            ax.fill_between(one.times, [0 if math.isnan(v) else v for v in values], color=tint, alpha=alpha,
                            linewidth=0, where=[not math.isnan(v) for v in values])  # fmt: skip
    style_axes(ax, unit)
    real = [v for one in series for v in one.values if not math.isnan(v)]
    if real and not stacked and all(v == 0 for v in real):
        ax.set_ylim(0, 1)  # a flat zero line sits at the bottom of a 0-1 axis
    if "min" in defaults or "max" in defaults:
        ax.set_ylim(bottom=defaults.get("min"), top=defaults.get("max"))
    ax.set_xlim(series[0].times[0], series[0].times[-1])
    top = plot.top + plot.height + 0.3
    if table:
        draw_legend_table(canvas, series, colours, calcs, unit, Box(box.left, top, box.width, legend_height), room)
        return
    for n, entries in enumerate(rows[:room]):
        left = box.left + 0.1
        for i in entries:
            y = top + n * line + line / 2
            canvas.swatch(left, y, colours[i])
            canvas.text(left + 0.23, y, series[i].name, va="center", fontsize=7.5)
            left += 0.3 + len(series[i].name) * 0.055
    if len(rows) > room:
        hidden = sum(len(r) for r in rows[room:])
        canvas.text(box.left + box.width - 0.05, top + (room - 1) * line, f"+{hidden} more", ha="right",
                    color=MUTED, fontsize=7)  # fmt: skip


def draw_legend_table(
    canvas: Canvas, series: list[Series], colours: list[str], calcs: list[str], unit: str | None, box: Box, lines: int
) -> None:
    """Grafana's table legend: a header, then a row per series; what does not fit is counted on the last line."""
    line = 0.16
    names = {"mean": "Mean", "max": "Max", "lastNotNull": "Last *"}
    column = 0.85
    for j, calc in enumerate(calcs):
        left = box.left + box.width - (len(calcs) - j - 1) * column - 0.1
        canvas.text(left, box.top, names[calc], ha="right", color=MUTED, fontsize=7, fontweight="bold")
    room = lines - 1 if len(series) <= lines - 1 else lines - 2
    for n, (one, tint) in enumerate(zip(series[:room], colours, strict=False)):
        y = box.top + (n + 1) * line + line / 2
        canvas.swatch(box.left + 0.1, y, tint)
        canvas.text(box.left + 0.33, y, one.name, va="center", fontsize=7)
        figures = {"mean": one.mean(), "max": one.max(), "lastNotNull": one.last()}
        for j, calc in enumerate(calcs):
            left = box.left + box.width - (len(calcs) - j - 1) * column - 0.1
            canvas.text(left, y, formatted(figures[calc], unit), ha="right", va="center", fontsize=7)
    if len(series) > room:
        canvas.text(box.left + 0.33, box.top + (room + 1) * line + line / 2, f"… {len(series) - room} more series",
                    color=MUTED, fontsize=7, va="center")  # fmt: skip


def style_axes(ax: Axes, unit: str | None) -> None:
    ax.tick_params(colors=MUTED, labelsize=7, length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.grid(color="#2C2F36", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: formatted(v, unit)))
    ax.xaxis.set_major_locator(MultipleLocator(60))  # x is Unix seconds: a tick each minute
    ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _: f"{datetime.fromtimestamp(t, UTC):%H:%M}"))


DRAW: dict[str, Callable[[Canvas, dict[str, Any], list[Series], Box], None]] = {
    "stat": draw_stat, "gauge": draw_stat, "bargauge": draw_bargauge, "timeseries": draw_timeseries,
}  # fmt: skip


def render(path: Path, prom: Prometheus, window: Window, out: Path, load: str) -> dict[str, list[str]]:
    dashboard = json.loads(path.read_text())
    seconds = round(window.end - window.start)
    builtins = {"__rate_interval": RATE_INTERVAL, "__interval": f"{STEP_SECONDS}s", "__range": f"{seconds}s",
                "__range_s": str(seconds), "__range_ms": str(seconds * 1000)}  # fmt: skip
    values, shown = resolve_variables(dashboard, prom, builtins, window.start, window.end)
    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    canvas = Canvas(24 * COLUMN_INCHES, HEADER_INCHES + rows * ROW_INCHES + 0.1)
    span = (f"{datetime.fromtimestamp(window.start, UTC):%Y-%m-%d %H:%M:%S} to "
            f"{datetime.fromtimestamp(window.end, UTC):%H:%M:%S} UTC")  # fmt: skip
    canvas.text(0.15, 0.12, dashboard["title"], fontsize=15, fontweight="bold")
    variables = "   ".join(f"{k} = {v}" for k, v in shown.items())
    canvas.text(0.15, 0.45, f"{span}   {variables}", fontsize=8.5, color=MUTED)
    canvas.text(0.15, 0.64, f"{path.relative_to(ROOT)} drawn by deploy/grafana/render.py from a real Prometheus "
                f"scraping the desk under load ({load})", fontsize=7.5, color=MUTED)  # fmt: skip
    report: dict[str, list[str]] = {"data": [], "no data": []}
    for panel in panels:
        grid = panel["gridPos"]
        box = Box(grid["x"] * COLUMN_INCHES + GAP_INCHES, HEADER_INCHES + grid["y"] * ROW_INCHES + GAP_INCHES,
                  grid["w"] * COLUMN_INCHES - 2 * GAP_INCHES, grid["h"] * ROW_INCHES - 2 * GAP_INCHES)  # fmt: skip
        if panel["type"] == "row":
            canvas.text(box.left + 0.1, box.top + box.height / 2, panel["title"], fontsize=11, fontweight="bold",
                        va="center")  # fmt: skip
            continue
        canvas.rectangle(box, PANEL, BORDER)
        canvas.text(box.left + 0.1, box.top + 0.07, panel.get("title", ""), fontsize=9, fontweight="bold")
        inner = Box(box.left + 0.08, box.top + 0.32, box.width - 0.16, box.height - 0.4)
        series = panel_data(panel, prom, values, window)
        report["data" if series else "no data"].append(panel.get("title", ""))
        draw = DRAW.get(panel["type"])
        if draw is None:
            canvas.text(inner.left, inner.top, f"(panel type {panel['type']} not drawn)", color=MUTED)
            continue
        draw(canvas, panel, series, inner)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{path.stem}.png"
    canvas.figure.savefig(target, dpi=100, facecolor=BACKGROUND)
    plt.close(canvas.figure)
    print(f"{target}: data in {len(report['data'])} panels; No data: {report['no data']}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=180, help="how long to drive traffic")
    parser.add_argument("--rate", type=float, default=2.5, help="tickets opened a second")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboards")
    parser.add_argument("--data", type=Path, help="keep Prometheus' data here (default: a temporary folder)")
    parser.add_argument("--render-only", action="store_true", help="draw from the TSDB in --data, no load run")
    args = parser.parse_args()
    if args.render_only and args.data is None:
        parser.error("--render-only needs --data")
    data_dir = args.data or Path(tempfile.mkdtemp(prefix="sd-prometheus-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        run = json.loads((data_dir / "run.json").read_text()) if args.render_only else None
        run = run or load_run(data_dir, args.seconds, args.rate)
        tally = run["tally"]
        load = (f"{run['rate']} tickets/s for {run['seconds']:.0f} s: {tally['opened']} opened, {tally['replied']} "
                f"replied, {tally['resolved']} resolved, {tally['rated']} rated")  # fmt: skip
        window = Window(run["start"], run["end"])
        with prometheus(data_dir, {}) as prom:
            for path in sorted(DASHBOARDS.glob("*.json")):
                render(path, prom, window, args.out, load)
    finally:
        if args.data is None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
