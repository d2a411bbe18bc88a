"""Wiring of the knowledge service; the only module that chooses dependencies.

    python -m services.knowledge.main [api|relay|all] [--port N]
    python -m services.knowledge.main rebuild      # drop the articles view and replay it

`api` serves `/v1/kb` and keeps the articles view and search index, `relay` publishes the
articles' events (and readers' views, ratings and self-service outcomes) on
`knowledge.articles`, `all` does both.

Each role imports what it alone needs where it is wired: a process killed and started again is
ready sooner without the modules of the roles it does not play (issue 26; `python -m
bench.process_start`).
"""

from __future__ import annotations

import sys

from schemas.topics import KNOWLEDGE_ARTICLES
from services.chassis.http import asyncapi
from services.chassis.http.identity import authenticate
from services.chassis.runtime.cli import parse_args, service_settings
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.storage.append_only import protect
from services.chassis.storage.projector import StoreProjector
from services.chassis.storage.readiness import check_store
from services.chassis.storage.store import store_env, tracking_recorder
from services.knowledge.application import Knowledge
from services.knowledge.projections import ArticlesProjection

NAME = "knowledge"


def main() -> int:
    args = parse_args(NAME, ["api", "relay", "all"], extra=["rebuild"])
    settings = service_settings(NAME)
    knowledge = Knowledge(env=store_env(settings, Knowledge.name))
    protect(knowledge)
    views = tracking_recorder(settings, Knowledge.name)  # one pool for the view and the files
    articles = ArticlesProjection(views)
    projector = StoreProjector(
        knowledge, articles, batch_size=settings.relay_batch_size, idle_seconds=settings.relay_idle_seconds
    )
    if args.role == "rebuild":
        articles.drop()
        print(f"rebuilt the articles view from {projector.catch_up()} events")
        return 0
    metrics = Metrics(NAME)
    runtime = Runtime(NAME, metrics)

    check_store(runtime, knowledge, metrics)
    app = runtime.app(title="Service desk knowledge base", version="1.0.0")
    authenticate(app, settings)
    asyncapi.serve(app, NAME, [KNOWLEDGE_ARTICLES], {})
    if args.role in ("api", "all"):
        from services.chassis.http.feed import feed_router
        from services.knowledge.api import create_app
        from services.knowledge.files import Files
        from services.knowledge.publication import public_fields
        from services.knowledge.service import Service

        files = Files(views)
        create_app(app, Service(knowledge, articles, files, settings.kb_attachment_max_bytes))
        app.include_router(feed_router(knowledge, public_fields(knowledge)))
        runtime.workers.append(("articles-projector", projector.run))
    if args.role in ("relay", "all"):
        from services.chassis.messaging.wiring import relay
        from services.knowledge.publication import publication

        relay(runtime, settings, metrics, knowledge, publication(knowledge))
    port = args.port if args.port is not None else settings.knowledge_port
    return runtime.serve(app, settings.http_host, port)


if __name__ == "__main__":
    sys.exit(main())
