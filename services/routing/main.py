"""Wiring of the routing service; the only module that chooses dependencies.

    python -m services.routing.main [api|consumer|relay|all] [--port N]
    python -m services.routing.main rebuild      # drop the agent-load view and replay it

`api` serves `/v1/routing` and keeps the agent-load view, `consumer` decides on ticket
and SLA events, `relay` publishes decisions to Kafka, `all` does everything.

Each role imports what it alone needs where it is wired: a process killed and started again is
ready sooner without the modules of the roles it does not play (issue 26; `python -m
bench.process_start`).
"""

from __future__ import annotations

import socket
import sys

from schemas.topics import ROUTING_DECISIONS, SLA_CLOCKS, TICKETS
from services.chassis.http import asyncapi
from services.chassis.http.identity import authenticate
from services.chassis.runtime.cli import parse_args, service_settings
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.storage.append_only import protect
from services.chassis.storage.projector import StoreProjector
from services.chassis.storage.readiness import check_store
from services.chassis.storage.store import store_env, tracking_recorder
from services.routing.application import Routing
from services.routing.projections import LoadProjection

NAME = "routing"


def main() -> int:
    args = parse_args(NAME, ["api", "consumer", "relay", "all"], extra=["rebuild"])
    settings = service_settings(NAME)
    routing = Routing(env=store_env(settings, Routing.name))
    protect(routing)
    load = LoadProjection(tracking_recorder(settings, Routing.name))
    projector = StoreProjector(
        routing, load, batch_size=settings.relay_batch_size, idle_seconds=settings.relay_idle_seconds
    )
    if args.role == "rebuild":
        load.drop()
        print(f"rebuilt the agent-load view from {projector.catch_up()} events")
        return 0
    metrics = Metrics(NAME)
    runtime = Runtime(NAME, metrics)

    check_store(runtime, routing, metrics)
    app = runtime.app(title="Service desk routing", version="1.0.0")
    authenticate(app, settings)
    asyncapi.serve(app, NAME, [ROUTING_DECISIONS], {TICKETS: NAME, SLA_CLOCKS: NAME})
    if args.role in ("api", "all"):
        from services.chassis.http.feed import feed_router
        from services.routing.api import create_app
        from services.routing.desk_metrics import LoadGauges
        from services.routing.publication import public_fields
        from services.routing.what_if import mount_what_if

        create_app(app, routing, load)
        mount_what_if(app, routing, settings, owner=f"{socket.gethostname()}:{args.port or settings.routing_port}")
        app.include_router(feed_router(routing, public_fields(routing)))
        metrics.registry.register(LoadGauges(load))
        runtime.workers.append(("load-projector", projector.run))
    if args.role in ("consumer", "all"):
        from schemas.keywords import KeywordDigests
        from services.chassis.messaging.batching import in_store
        from services.chassis.messaging.wiring import consume
        from services.routing.reactions import decides_on, reactions

        digests = KeywordDigests(settings.keyword_secret.encode())
        react = reactions(routing, digests)
        batch = in_store(routing, react, decides_on)
        consume(runtime, settings, metrics, NAME, [TICKETS, SLA_CLOCKS], react, apply_batch=batch)
    if args.role in ("relay", "all"):
        from services.chassis.messaging.wiring import relay
        from services.routing.desk_metrics import count_decisions
        from services.routing.publication import publication

        relay(runtime, settings, metrics, routing, publication(routing), count_decisions(metrics.registry))
    port = args.port if args.port is not None else settings.routing_port
    return runtime.serve(app, settings.http_host, port)


if __name__ == "__main__":
    sys.exit(main())
