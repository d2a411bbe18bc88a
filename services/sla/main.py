"""Wiring of the SLA service; the only module that chooses dependencies.

    python -m services.sla.main [api|consumer|scheduler|relay|all] [--port N]

`api` serves `/v1/sla`, `consumer` follows the tickets' clocks, `scheduler` fires the
clocks when they fall due, `relay` publishes clock events to Kafka, `all` does everything.

Each role imports what it alone needs where it is wired: a process killed and started again is
ready sooner without the modules of the roles it does not play (issue 26; `python -m
bench.process_start`).
"""

from __future__ import annotations

import socket
import sys

from schemas.topics import SLA_CLOCKS, TICKETS
from services.chassis.http import asyncapi
from services.chassis.http.identity import authenticate
from services.chassis.runtime.cli import parse_args, service_settings
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.storage.append_only import protect
from services.chassis.storage.readiness import check_store
from services.chassis.storage.store import store_env, tracking_recorder
from services.sla.application import Sla

NAME = "sla"
# A fetch of ticket events waits this long for more to record in one transaction: a clock acts at its ticket's
# own instants, so recording it later moves no due instant (a firing due meanwhile is recorded at once).
GATHER_SECONDS = 0.05


def main() -> int:
    args = parse_args(NAME, ["api", "consumer", "scheduler", "relay", "all"])
    settings = service_settings(NAME)
    sla = Sla(env=store_env(settings, Sla.name))
    protect(sla)
    metrics = Metrics(NAME)
    runtime = Runtime(NAME, metrics)

    check_store(runtime, sla, metrics)
    app = runtime.app(title="Service desk SLA", version="1.0.0")
    authenticate(app, settings)
    asyncapi.serve(app, NAME, [SLA_CLOCKS], {TICKETS: NAME})
    if args.role in ("api", "all"):
        from services.chassis.http.feed import feed_router
        from services.sla.api import create_app
        from services.sla.publication import public_fields
        from services.sla.what_if import mount_what_if

        create_app(app, sla)
        mount_what_if(app, sla, settings, owner=f"{socket.gethostname()}:{args.port or settings.sla_port}")
        app.include_router(feed_router(sla, public_fields(sla)))
    if args.role in ("consumer", "all"):
        from services.chassis.messaging.batching import in_store
        from services.chassis.messaging.wiring import consume
        from services.sla.passed_over import passed_over_counted
        from services.sla.reactions import decides_on, reactions

        react = reactions(sla, passed_over_counted(metrics.registry))
        batch = in_store(sla, react, decides_on)
        consume(runtime, settings, metrics, NAME, [TICKETS], react, apply_batch=batch, gather_seconds=GATHER_SECONDS)
    if args.role in ("scheduler", "all"):
        from services.sla.timers import Scheduler, TimersView

        scheduler = Scheduler(sla, TimersView(tracking_recorder(settings, Sla.name)), metrics.registry)
        runtime.workers.append(("scheduler", scheduler.run))
    if args.role in ("relay", "all"):
        from services.chassis.messaging.wiring import relay
        from services.sla.publication import publication

        relay(runtime, settings, metrics, sla, publication(sla))
    port = args.port if args.port is not None else settings.sla_port
    return runtime.serve(app, settings.http_host, port)


if __name__ == "__main__":
    sys.exit(main())
