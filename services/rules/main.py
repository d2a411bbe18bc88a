"""Wiring of the rules service (triggers); the only module that chooses dependencies.

    python -m services.rules.main [api|consumer|scheduler|relay|all] [--port N]

`api` serves `/v1/triggers`, `consumer` learns each ticket's facts from ticket and SLA events and fires the
triggers, `scheduler` fires the timed triggers on their instant (timed.py), `relay` publishes the firings on
`rules.actions`, `all` does everything.

Each role imports what it alone needs where it is wired: a process killed and started again is
ready sooner without the modules of the roles it does not play (issue 26; `python -m
bench.process_start`).
"""

from __future__ import annotations

import socket
import sys

from schemas.topics import RULES_ACTIONS, SLA_CLOCKS, TICKETS
from services.chassis.http import asyncapi
from services.chassis.http.identity import authenticate
from services.chassis.runtime.cli import parse_args, service_settings
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.storage.append_only import protect
from services.chassis.storage.readiness import check_store
from services.chassis.storage.store import store_env, tracking_recorder
from services.rules.application import Rules

NAME = "rules"


def main() -> int:
    args = parse_args(NAME, ["api", "consumer", "scheduler", "relay", "all"])
    settings = service_settings(NAME)
    rules = Rules(env=store_env(settings, Rules.name))
    protect(rules)
    metrics = Metrics(NAME)
    runtime = Runtime(NAME, metrics)

    check_store(runtime, rules, metrics)
    app = runtime.app(title="Service desk rules (triggers)", version="1.0.0")
    authenticator = authenticate(app, settings)
    asyncapi.serve(app, NAME, [RULES_ACTIONS], {TICKETS: NAME, SLA_CLOCKS: NAME})
    if args.role in ("api", "all"):
        from services.chassis.http.feed import feed_router
        from services.rules.api import create_app
        from services.rules.calendars import SlaCalendars
        from services.rules.field_kinds import IntakeFields
        from services.rules.publication import public_fields
        from services.rules.what_if import Lookups, mount_what_if

        verifier = authenticator.verifier
        calendars = SlaCalendars(settings.url_of("sla"), verifier)
        fields = IntakeFields(settings.url_of("intake"), verifier)
        create_app(app, rules, calendars, fields)
        app.include_router(feed_router(rules, public_fields(rules)))
        owner = f"{socket.gethostname()}:{args.port or settings.rules_port}"
        mount_what_if(app, rules, settings, owner, Lookups(calendars, fields))
    if args.role in ("consumer", "all"):
        from services.chassis.messaging.batching import in_store
        from services.chassis.messaging.wiring import consume

        consume(
            runtime,
            settings,
            metrics,
            NAME,
            [TICKETS, SLA_CLOCKS],
            rules.react,
            apply_batch=in_store(rules, rules.react),
        )
    if args.role in ("scheduler", "all"):
        from services.rules.timed import TriggerTimers, scheduler

        timers = TriggerTimers(tracking_recorder(settings, Rules.name))
        runtime.workers.append(("scheduler", scheduler(rules, timers, metrics.registry).run))
    if args.role in ("relay", "all"):
        from services.chassis.messaging.wiring import relay
        from services.rules.desk_metrics import count_firings
        from services.rules.publication import publication

        relay(runtime, settings, metrics, rules, publication(rules), count_firings(metrics.registry))
    port = args.port if args.port is not None else settings.rules_port
    return runtime.serve(app, settings.http_host, port)


if __name__ == "__main__":
    sys.exit(main())
