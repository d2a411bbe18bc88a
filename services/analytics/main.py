"""Wiring of the analytics service; the only module that chooses dependencies.

python -m services.analytics.main [api|consumer|all] [--port N]
python -m services.analytics.main rebuild [--feed URL]
"""

from __future__ import annotations

import sys

from faststream.kafka import KafkaBroker

from schemas.topics import PUBLIC_TOPICS, TICKETS
from services.analytics.api import create_app
from services.analytics.projections import BacklogProjection
from services.analytics.rebuild import rebuild
from services.chassis.cli import parse_args
from services.chassis.consumer import IdempotentConsumer
from services.chassis.kafka import ensure_topics
from services.chassis.metrics import Metrics
from services.chassis.runtime import Runtime
from services.chassis.settings import Settings
from services.chassis.store import tracking_recorder

NAME = "analytics"


def main() -> int:
    args = parse_args(NAME, ["api", "consumer", "all"], extra=["rebuild"])
    settings = Settings()
    backlog = BacklogProjection(tracking_recorder(settings, NAME))
    if args.role == "rebuild":
        rebuild(backlog, args.feed or settings.url_of("intake"), "intake")
        return 0
    metrics = Metrics(NAME)
    runtime = Runtime(NAME, metrics)
    app = runtime.app(title="Service desk analytics", version="1.0.0")
    if args.role in ("api", "all"):
        create_app(app, backlog)
    if args.role in ("consumer", "all"):
        broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            enable_idempotence=True,
            acks="all",
            logger=None,
        )
        IdempotentConsumer(
            broker, [settings.kafka_name(TICKETS)], settings.kafka_name(NAME), backlog.apply, metrics,
            on_halt=runtime.fail, dlq_max_ratio=settings.consumer_dlq_max_ratio,
        )  # fmt: skip

        async def start() -> None:
            topics = [settings.kafka_name(topic) for topic in PUBLIC_TOPICS]
            await ensure_topics(settings.kafka_bootstrap_servers, topics, settings.topic_partitions)
            await broker.start()

        async def kafka_ready() -> bool:
            return await broker.ping(timeout=1.0)

        runtime.on_start.append(start)
        runtime.on_stop.append(broker.stop)
        runtime.checks["kafka"] = kafka_ready
    port = args.port if args.port is not None else settings.analytics_port
    return runtime.serve(app, settings.http_host, port)


if __name__ == "__main__":
    sys.exit(main())
