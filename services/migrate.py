"""Every table of every service, created once per release: `python -m services.migrate`.

A compose one-shot and a Kubernetes Job run it before the services start; the services then
run with SERVICEDESK_CREATE_TABLES=false, so replicas starting together never race on DDL.
Each statement is idempotent: a second run, or a run on a database that has the tables,
changes nothing. Builds the stores and views the way each service's main.py does.
"""

from __future__ import annotations

import logging
import sys

from schemas.keywords import KeywordDigests
from services.analytics.projections import AnalyticsProjection
from services.chassis.messaging.published import PublishedLog
from services.chassis.runtime.cli import service_settings
from services.chassis.runtime.settings import Settings
from services.chassis.storage.append_only import protect
from services.chassis.storage.store import store_env, tracking_recorder
from services.intake.privacy.personal_data import PersonalData, SqlKeyTable
from services.intake.privacy.search_tokens import SearchTokens
from services.intake.tickets.application import Intake
from services.intake.tickets.projections import TicketsProjection
from services.intake.tickets.sla_status import SlaStatus
from services.intake.webhooks.delivery import Deliveries
from services.routing.application import Routing
from services.routing.projections import LoadProjection
from services.sla.application import Sla
from services.sla.timers import TimersView

log = logging.getLogger(__name__)

ANALYTICS = "analytics"


def migrate(settings: Settings) -> None:
    """The event stores of intake, routing and SLA (events, snapshots, tracking, the append-only
    trigger, the published log) and every read model's tables, analytics' included."""
    settings = settings.model_copy(update={"create_tables": True})
    secret = settings.personal_data_secret.encode()
    personal = PersonalData(SqlKeyTable(tracking_recorder(settings, Intake.name)), secret)
    digests = KeywordDigests(settings.keyword_secret.encode())
    intake = Intake(
        env=store_env(settings, Intake.name),
        personal=personal,
        digests=digests,
        audit_secret=settings.audit_secret.encode(),
    )
    routing = Routing(env=store_env(settings, Routing.name))
    sla = Sla(env=store_env(settings, Sla.name))
    for app in (intake, routing, sla):
        protect(app)
        PublishedLog(tracking_recorder(settings, app.name), app.name)
        log.info("%s: event store and published log ready", app.name)
    intake_views = tracking_recorder(settings, Intake.name)
    TicketsProjection(intake_views, personal, SearchTokens(secret))
    SlaStatus(intake_views)
    Deliveries(intake_views, intake)
    LoadProjection(tracking_recorder(settings, Routing.name))
    TimersView(tracking_recorder(settings, Sla.name))
    AnalyticsProjection(tracking_recorder(settings, ANALYTICS))
    log.info("read models ready")
    for app in (intake, routing, sla):
        app.close()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s migrate %(levelname)s %(name)s: %(message)s")
    settings = service_settings("migrate")
    migrate(settings)
    postgres = f"PostgreSQL {settings.postgres_host}:{settings.postgres_port}/{settings.postgres_dbname}"
    print(f"every table is in place ({settings.data_dir if settings.persistence == 'sqlite' else postgres})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
