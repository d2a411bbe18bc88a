"""B12: the knowledge base's suggestions and search over 10,000 articles, on PostgreSQL and on SQLite
(target: suggestions within 50 ms at p95).

Russian and English articles (bench/kb_articles.py) are indexed as the knowledge service's
projection does, in transactions of a few hundred; then the tickets' and chat messages' texts ask
for suggestions and the search box's words search, as staff and as a customer of an organisation
(whose filter leaves out internal and other organisations' articles), one call at a time, each
timed round trip included (the index read through its SqlView, as the service reads it).

    python -m bench.kb_suggestions [--articles N] [--requests N]   # `make bench`: 10,000, 500
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.kb_articles import articles, queries, ticket_texts
from bench.rebuild import calibration
from bench.results import percentiles, record
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.chassis.storage.views import SqlView
from services.knowledge.search import Audience, Hit, index_schema, put, search, suggest
from tests.infra import postgres

TENANT = "acme"
BATCH = 250  # articles a transaction
WARM_UP = 20
TARGET_P95_MS = 50
AUDIENCES = [Audience(staff=True), Audience(staff=False, organisation="northwind")]


@contextmanager
def stores() -> Iterator[dict[str, SqlView]]:
    """An empty index on a fresh PostgreSQL database and one on a SQLite file."""
    with postgres().fresh_settings() as on_postgres, tempfile.TemporaryDirectory() as tmp:
        on_sqlite = Settings(persistence="sqlite", data_dir=Path(tmp))
        views = {
            name: SqlView(tracking_recorder(settings, "knowledge"), index_schema(name == "postgres"), "kb-search")
            for name, settings in (("postgres", on_postgres), ("sqlite", on_sqlite))
        }
        try:
            yield views
        finally:
            for view in views.values():
                view.datastore.close()


def seed(view: SqlView, count: int) -> float:
    began = time.perf_counter()
    made = articles(TENANT, count)
    for start in range(0, len(made), BATCH):
        with view.transaction() as sql:
            for article in made[start : start + BATCH]:
                put(sql, article)
    if view.postgres:
        with view.transaction() as sql:  # as autovacuum would, soon after
            sql.execute("ANALYZE")
    return round(time.perf_counter() - began, 1)


def timed(call: Callable[[str, Audience], list[Hit]], texts: list[str]) -> dict[str, Any]:
    samples, found = [], 0
    for n, text in enumerate(texts):
        audience = AUDIENCES[n % len(AUDIENCES)]
        began = time.perf_counter()
        hits = call(text, audience)
        if n >= WARM_UP:
            samples.append((time.perf_counter() - began) * 1000)
            found += bool(hits)
    figures = percentiles(samples)
    figures["p95"] = round(sorted(samples)[int(0.95 * len(samples))], 3)
    figures["answered_with_articles"] = round(found / len(samples), 3)
    return figures


def measure(view: SqlView, requests: int) -> dict[str, Any]:
    texts, words = ticket_texts(WARM_UP + requests), queries(WARM_UP + requests)
    return {
        "suggest_ms": timed(lambda text, audience: suggest(view, TENANT, text, audience), texts),
        "search_ms": timed(lambda query, audience: search(view, TENANT, query, audience), words),
    }


def run(count: int = 10_000, requests: int = 500) -> None:
    load_before, figures = os.getloadavg(), {}
    with stores() as views:
        for name, view in views.items():
            seconds = seed(view, count)
            print(f"  {name}: {count} articles indexed in {seconds} s", flush=True)
            figures[name] = {"seed_seconds": seconds, **measure(view, requests)}
    record("kb_suggestions", {
        "articles": count, "languages": ["ru", "en"], "requests": requests, "stores": figures,
        "target_p95_ms": TARGET_P95_MS,
        "within_target": all(store["suggest_ms"]["p95"] <= TARGET_P95_MS for store in figures.values()),
        "load_average_1_5_15": {"before": load_before, "after": os.getloadavg()},
        # bench/rebuild.py's fixed loop: 0.5 s on a quiet machine of ours.
        "calibration_seconds": calibration(),
    })  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000, help="articles indexed (default 10,000)")
    parser.add_argument("--requests", type=int, default=500, help="timed calls of each kind (default 500)")
    args = parser.parse_args()
    run(args.articles, args.requests)


if __name__ == "__main__":
    main()
