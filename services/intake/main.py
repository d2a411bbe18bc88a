"""Wiring of the intake service; the only module that chooses dependencies.

    python -m services.intake.main [api|relay|consumer|webhooks|smtp|imap|mailer|all] [--port N]
    python -m services.intake.main verify        # check every stream against its seals and checkpoints

`api` serves the gateway API, `relay` publishes the store to Kafka, `consumer` applies
routing's decisions and SLA clock events to tickets, `webhooks` delivers events to
subscribed URLs, `smtp` listens for mail to the desk's addresses (SMTP port), `imap` polls an
existing mailbox (when one is configured), `mailer` tells requesters what happens to their
tickets (e-mail, Telegram), `all` does everything. The gateway (`api`) also
serves the web chat socket and the messenger webhooks.

Each role imports what it alone needs where it is wired: a process killed and started again is
ready sooner without the modules of the roles it does not play (issue 26; `python -m
bench.process_start`): a mailer, say, loads none of the gateway's routes.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx
from eventsourcing.persistence import TrackingRecorder

from schemas.keywords import KeywordDigests
from schemas.topics import CHECKPOINTS, ROUTING_DECISIONS, RULES_ACTIONS, SLA_CLOCKS, TICKETS
from services.chassis.http import asyncapi, rate_limit
from services.chassis.http.identity import authenticate
from services.chassis.http.rate_limit import gateway_limiter
from services.chassis.http.tls import trusted_roots
from services.chassis.runtime.cli import parse_args, service_settings
from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.pacing import sleep_unless
from services.chassis.runtime.runtime import Runtime
from services.chassis.storage.append_only import protect
from services.chassis.storage.projector import StoreProjector
from services.chassis.storage.readiness import check_store
from services.chassis.storage.store import store_env, tracking_recorder
from services.intake import stored_topics
from services.intake.attachments.blobs import FileBlobStore
from services.intake.channels.landing import Landing
from services.intake.channels.participants import Participants, StaffDirectory
from services.intake.channels.telemetry import ChannelCounters
from services.intake.gateway.api_keys import ApiKeyStore
from services.intake.notifications import deliveries as notification_deliveries
from services.intake.people.conversations import Conversations
from services.intake.people.finder import People
from services.intake.privacy.personal_data import PersonalData, SqlKeyTable
from services.intake.privacy.search_tokens import SearchTokens
from services.intake.tickets.application import Intake
from services.intake.tickets.sla_status import SlaStatus
from services.intake.webhooks.delivery import Deliveries

if TYPE_CHECKING:
    from services.intake.people.erasure import Erasures

log = logging.getLogger(__name__)
SELF_SERVICE_WAIT = 2.0  # seconds the channels wait for the knowledge base's suggestions


def main() -> int:
    args = parse_args(
        "intake", ["api", "relay", "consumer", "webhooks", "smtp", "imap", "mailer", "all"], extra=["verify"]
    )
    settings = service_settings("intake")
    stored_topics.register()
    shared = tracking_recorder(settings, Intake.name)

    def tables() -> TrackingRecorder:
        """The recorder of one of intake's tables besides the events (views, keys, deliveries, limits).
        On PostgreSQL they share one: one connection pool a process, not one a table (an intake relay
        held 37 connections). On SQLite each has its own: sharing one stalled the embedded flow's
        writers at 100 tickets/s (POST to assignment 28 s, against 0.3 s with one each)."""
        return shared if settings.persistence == "postgres" else tracking_recorder(settings, Intake.name)

    keys = SqlKeyTable(tables())
    personal = PersonalData(keys, settings.personal_data_secret.encode())
    digests = KeywordDigests(settings.keyword_secret.encode())
    intake = Intake(
        env=store_env(settings, Intake.name),
        personal=personal,
        digests=digests,
        audit_secret=settings.audit_secret.encode(),
        checkpoint_seconds=settings.audit_checkpoint_seconds,
    )
    protect(intake)
    if args.role == "verify":
        return verify(intake)
    metrics = Metrics("intake")
    runtime = Runtime("intake", metrics)

    check_store(runtime, intake, metrics)

    sla_status = SlaStatus(tables())
    deliveries = Deliveries(tables(), intake)
    app = runtime.app(title="Service desk gateway API", version="1.0.0", description=rate_limit.DESCRIPTION)
    api_keys = ApiKeyStore(intake)
    people = People(intake, personal)
    tokens = SearchTokens(settings.personal_data_secret.encode())
    conversations = Conversations(intake, personal)
    landing = Landing(intake, Participants(conversations, StaffDirectory(settings.staff_addresses)))
    blobs = FileBlobStore(settings.data_dir / "blobs")
    counters = ChannelCounters(metrics.registry)
    notifications = notification_deliveries.Deliveries(tables(), settings.notification_claim_seconds)
    authenticator = authenticate(app, settings, api_keys, limiter=gateway_limiter(settings, tables()))
    asyncapi.serve(
        app,
        "intake",
        [TICKETS, CHECKPOINTS],
        {ROUTING_DECISIONS: "intake", SLA_CLOCKS: "intake", RULES_ACTIONS: "intake"},
    )
    if args.role in ("api", "all"):
        from services.chassis.http.feed_sources import RemoteSource
        from services.chassis.http.gateway import (
            PUBLIC_PREFIX,
            MergedOpenAPI,
            mount_pages,
            mount_proxy,
            mount_public_proxy,
            relay_client,
        )
        from services.chassis.http.rate_limit import public_limiter
        from services.intake.channels import chat, telegram
        from services.intake.channels.offers import Offers
        from services.intake.channels.self_service import SelfService
        from services.intake.channels.telegram_offer import AnswerFirst
        from services.intake.http import kb_suggestions, what_if
        from services.intake.http.agents import Roster
        from services.intake.http.gateway import Services, mount_gateway
        from services.intake.http.solution_articles import SolutionArticles
        from services.intake.macros.applying import MacroDesk
        from services.intake.people.customers import Customers
        from services.intake.people.directory import Directory
        from services.intake.people.erasure import Erasures
        from services.intake.people.index import TOPICS, PeopleIndex
        from services.intake.people.subject_access import SubjectAccess
        from services.intake.tickets.projections import TicketsProjection
        from services.intake.tickets.viewers import Viewers

        projection = TicketsProjection(tables(), personal, tokens)
        projector = StoreProjector(
            intake,
            projection,
            batch_size=settings.relay_batch_size,
            idle_seconds=settings.relay_idle_seconds,
        )
        runtime.workers.append(("tickets-projector", projector.run))
        people_index = PeopleIndex(tables(), intake, personal, tokens)
        authenticator.resolve = Customers(people, people_index).principal  # a customer: a person of the directory
        indexer = StoreProjector(intake, people_index, settings.relay_batch_size, settings.relay_idle_seconds, TOPICS)
        runtime.workers.append(("people-index", indexer.run))
        # A slow knowledge base never holds a ticket back long.
        knowledge = httpx.Client(timeout=SELF_SERVICE_WAIT, verify=trusted_roots())
        runtime.on_stop.append(lambda: asyncio.to_thread(knowledge.close))
        portal = settings.portal_url or f"{settings.web_public_url or settings.url_of('web')}/t/{{tenant}}"
        self_service = SelfService(settings.url_of("knowledge"), portal, knowledge)
        offers = AnswerFirst(self_service, Offers(intake, personal), settings.telegram_api_url, knowledge)
        messenger = telegram.router(settings.telegram_bots, landing, people, conversations, counters, offers)
        erasures = Erasures(intake, people, projection, blobs)
        access = SubjectAccess(intake, people, conversations, projection, erasures)
        runtime.workers.append(("erasures", finishing(erasures, blobs)))
        client = relay_client()  # keeps no cookie: one browser's session never goes with another's request
        mint = authenticator.verifier.mint_internal
        publishers = ("routing", "sla", "knowledge", "rules")
        feeds = [RemoteSource(service, settings.url_of(service), client, mint) for service in publishers]
        chat_socket = chat.router(intake, landing, conversations, counters, settings.chat_poll_seconds, self_service)
        viewers = Viewers(tables())
        routes = Services(
            projection, deliveries, api_keys, notifications, erasures, access, messenger, chat_socket, viewers,
            Directory(intake, people, personal), people_index, Roster(settings.url_of("routing"), client, mint),
        )  # fmt: skip
        macros = MacroDesk(intake, sla_status, settings, portal)
        mount_gateway(
            app,
            intake,
            blobs,
            routes,
            max_upload=settings.attachment_max_bytes,
            sla=sla_status,
            feeds=feeds,
            macros=macros,
        )
        app.include_router(kb_suggestions.router(projection, settings.url_of("knowledge"), client))  # before /v1/kb
        app.state.solution_articles = SolutionArticles(settings.url_of("knowledge"), client)  # http/work.py asks it
        public = public_limiter(settings, tables())
        mount_public_proxy(app, PUBLIC_PREFIX, settings.url_of("knowledge"), client, public)
        upstreams = {"/v1/routing": "routing", "/v1/sla": "sla", "/v1/reports": "analytics", "/v1/kb": "knowledge",
                     "/v1/triggers": "rules"}  # fmt: skip
        app.include_router(what_if.router({s: settings.url_of(s) for s in ("rules", "routing", "sla")}, client))
        for prefix, service in upstreams.items():
            mount_proxy(app, prefix, settings.url_of(service), client, root=prefix == "/v1/triggers")
        merged = MergedOpenAPI(app, {p: settings.url_of(s) for p, s in upstreams.items()}, client)
        runtime.workers.append(("openapi", merged.run))
        streams = relay_client(timeout=httpx.Timeout(30.0, read=60.0), limits=httpx.Limits(max_connections=None))
        mount_pages(app, settings.url_of("web"), client, streams)  # last: every path no route above answers
        runtime.on_stop.append(streams.aclose)
        runtime.on_stop.append(client.aclose)
    if args.role in ("relay", "all"):
        from services.chassis.messaging.wiring import relay
        from services.intake.tickets.publication import publication

        relay(runtime, settings, metrics, intake, publication(intake), own_topics=[CHECKPOINTS])
        runtime.workers.append(("audit-checkpoints", checkpointing(intake, settings.audit_checkpoint_seconds)))
    if args.role in ("webhooks", "all"):
        from schemas.topics import PUBLIC_TOPICS
        from services.chassis.messaging.batching import in_view
        from services.chassis.messaging.wiring import consume
        from services.intake.webhooks.delivery import Deliverer

        consume(
            runtime,
            settings,
            metrics,
            "intake-webhooks",
            list(PUBLIC_TOPICS),
            deliveries.enqueue,
            tracking_prefix="webhooks:",
            apply_batch=in_view(deliveries.view, deliveries.enqueue_many),
        )
        deliverer = Deliverer(
            intake,
            deliveries,
            settings.webhook_retry_base_seconds,
            settings.webhook_max_attempts,
            settings.webhook_disable_after,
        )
        runtime.workers.append(("webhooks", deliverer.run))
    if args.role in ("smtp", "imap", "all"):
        from services.chassis.http.rate_limit import RateLimiter
        from services.intake.channels import imap_poller, smtp_listener
        from services.intake.channels.email_in import EmailIntake
        from services.intake.tickets.projections import TicketsProjection

        numbers = TicketsProjection(tables(), personal, tokens)
        email = EmailIntake(
            settings.mailboxes,
            settings.mail_domain,
            landing,
            people,
            conversations,
            blobs,
            numbers.ticket_numbered,
            RateLimiter(settings.mail_per_sender_per_minute),
            counters,
            settings.attachment_max_bytes,
            settings.mail_authserv_id,
        )
        if args.role in ("smtp", "all"):
            listener = smtp_listener.listener(
                email,
                settings.smtp_listen_host,
                settings.smtp_listen_port,
                settings.smtp_max_bytes,
                settings.mail_domain,
            )
            runtime.workers.append(("smtp", listener))
        if args.role in ("imap", "all") and settings.imap_host:
            runtime.workers.append(
                ("imap", imap_poller.poller(email, imap_poller.MailboxAccess.of(settings), settings.imap_poll_seconds))
            )
    if args.role in ("mailer", "all"):
        from services.chassis.messaging.batching import in_view
        from services.chassis.messaging.wiring import consume
        from services.intake.notifications.compose import Composer
        from services.intake.notifications.mail_sender import MailSender
        from services.intake.notifications.mailer import Mailer
        from services.intake.notifications.outbox import NotificationOutbox
        from services.intake.notifications.telegram_sender import TelegramSender
        from services.intake.notifications.templates import Templates

        outbox = NotificationOutbox(
            tables(),
            lambda ticket_id: requester_of(intake, ticket_id),
            store_position=intake.recorder.max_notification_id() or 0,
            doorbell=notifications.doorbell,
        )
        filler = StoreProjector(
            intake, outbox, batch_size=settings.relay_batch_size, idle_seconds=settings.relay_idle_seconds
        )
        runtime.workers.append(("notifications-outbox", filler.run))
        consume(
            runtime,
            settings,
            metrics,
            "intake-notifications",
            [SLA_CLOCKS],
            outbox.remind,
            tracking_prefix="notifications:",
            apply_batch=in_view(outbox.view, outbox.remind_many),  # a restart's backlog in a few transactions
        )
        bot_api = httpx.AsyncClient(timeout=30.0, verify=trusted_roots())
        runtime.on_stop.append(bot_api.aclose)
        composer = Composer(
            intake, people, conversations, personal, Templates(settings.notification_templates), settings
        )
        mailer = Mailer(
            notifications,
            composer,
            [MailSender(settings), TelegramSender(settings, bot_api)],
            settings.notification_retry_base_seconds,
            settings.notification_max_attempts,
            settings.notification_route_wait_seconds,
        )
        runtime.workers.append(("mailer", mailer.run))
    if args.role in ("consumer", "all"):
        from services.chassis.messaging.batching import in_store
        from services.chassis.messaging.wiring import consume
        from services.intake.tickets.reactions import decides_on, reactions

        react = reactions(intake, sla_status)
        topics = [ROUTING_DECISIONS, SLA_CLOCKS, RULES_ACTIONS]
        consume(runtime, settings, metrics, "intake", topics, react, apply_batch=in_store(intake, react, decides_on))
    port = args.port if args.port is not None else settings.intake_port
    return runtime.serve(app, settings.http_host, port)


def requester_of(intake: Intake, ticket_id: UUID) -> str | None:
    from services.chassis.storage.processing import find
    from services.intake.tickets.domain import Ticket

    ticket = find(intake, ticket_id, Ticket)
    return ticket.requester_id if ticket is not None else None


def finishing(erasures: Erasures, blobs: FileBlobStore) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """A worker that, once at start, removes what an upload that crashed left of an erased person,
    files the blobs stored before they were kept per person, then completes the erasures a crash left
    between their steps."""

    from services.intake.attachments.legacy_blobs import file_legacy_blobs

    async def run(stopping: asyncio.Event) -> None:
        await asyncio.to_thread(blobs.sweep_erased)
        await asyncio.to_thread(file_legacy_blobs, erasures.intake, blobs)
        await asyncio.to_thread(erasures.finish_pending)
        await stopping.wait()

    return run


def checkpointing(intake: Intake, seconds: float) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """A worker that records a signed checkpoint of every stream's head every `seconds` (when any changed)."""

    async def run(stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await asyncio.to_thread(intake.audit.checkpoint)
            except TRANSIENT_STORE_ERRORS as error:
                log.warning("audit checkpoint: store unavailable, retrying: %r", error)
            await sleep_unless(stopping, seconds)

    return run


def verify(intake: Intake) -> int:
    """Check every stream against the seals and the newest checkpoints; exit 1 naming each problem."""
    result = intake.verify()
    anchor = result.checkpoint
    since = f", checkpoint {anchor.sequence} at position {anchor.position}" if anchor else ", no checkpoint yet"
    if result.broken is None:
        print(f"intact: {result.checked} events checked{since}")
        return 0
    for broken in result.problems:
        print(f"BROKEN: stream {broken.originator_id} version {broken.version}: {broken.reason}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
