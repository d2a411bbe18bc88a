"""Wiring of the analytics service; the only module that chooses dependencies.

python -m services.analytics.main [api|consumer|all] [--port N]
python -m services.analytics.main rebuild [--kafka | --feed intake=URL --feed sla=URL]   # progress, equality check

Each role imports what it alone needs where it is wired: a process killed and started again is
ready sooner without the modules of the roles it does not play (issue 26; `python -m
bench.process_start`).
"""

from __future__ import annotations

import sys

from schemas.topics import KNOWLEDGE_ARTICLES, SLA_CLOCKS, TICKETS
from services.analytics.projections import AnalyticsProjection
from services.analytics.rebuild import from_feeds, from_kafka, rebuild, upgrade
from services.chassis.http import asyncapi
from services.chassis.http.identity import authenticate, verifier_of
from services.chassis.runtime.cli import parse_args, service_settings
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.storage.store import tracking_recorder

NAME = "analytics"


def main() -> int:
    args = parse_args(NAME, ["api", "consumer", "all"], extra=["rebuild"])
    settings = service_settings(NAME)
    backlog = AnalyticsProjection(tracking_recorder(settings, NAME))
    feeds = dict(feed.split("=", 1) for feed in args.feed) or {
        s: settings.url_of(s) for s in ("intake", "sla", "knowledge")
    }
    verifier = verifier_of(settings)

    def token() -> str:
        return verifier.mint_service(NAME)

    if args.role == "rebuild":
        topics = [settings.kafka_name(topic) for topic in (TICKETS, SLA_CLOCKS, KNOWLEDGE_ARTICLES)]
        sources = from_kafka(settings.kafka_bootstrap_servers, topics) if args.kafka else from_feeds(feeds, token)
        equal = rebuild(backlog, sources).equals_live
        backlog.view.mark_current()
        return 0 if equal else 1
    if backlog.view.outdated and args.role in ("consumer", "all"):
        upgrade(backlog, feeds, token)
    metrics = Metrics(NAME)
    runtime = Runtime(NAME, metrics)
    app = runtime.app(title="Service desk analytics", version="1.0.0")
    authenticate(app, settings)
    asyncapi.serve(app, NAME, [], {TICKETS: NAME, SLA_CLOCKS: NAME, KNOWLEDGE_ARTICLES: NAME})
    if args.role in ("api", "all"):
        from services.analytics.api import create_app

        create_app(app, backlog)
    if args.role in ("consumer", "all"):
        from services.analytics.desk_metrics import DeskMetrics
        from services.chassis.messaging.batching import in_view
        from services.chassis.messaging.wiring import consume

        desk = DeskMetrics(metrics.registry, backlog)
        batches = in_view(backlog.view, desk.observing_many(backlog.apply_many))
        topics = [TICKETS, SLA_CLOCKS, KNOWLEDGE_ARTICLES]
        consume(runtime, settings, metrics, NAME, topics, desk.observing(backlog.apply), apply_batch=batches)
    port = args.port if args.port is not None else settings.analytics_port
    return runtime.serve(app, settings.http_host, port)


if __name__ == "__main__":
    sys.exit(main())
