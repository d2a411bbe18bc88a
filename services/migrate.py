"""Every table of every service, created once per release: `python -m services.migrate`.

A compose one-shot and a Kubernetes Job run it before the services start; the services then
run with SERVICEDESK_CREATE_TABLES=false, so replicas starting together never race on DDL.
Each statement is idempotent: a second run, or a run on a database that has the tables,
changes nothing. Each service's `tables.py` builds its stores and views the way its main.py does.
"""

from __future__ import annotations

import logging
import sys

from services.analytics import tables as analytics
from services.chassis.runtime.cli import service_settings
from services.chassis.runtime.settings import Settings
from services.intake import tables as intake
from services.knowledge import tables as knowledge
from services.routing import tables as routing
from services.rules import tables as rules
from services.sla import tables as sla
from services.web import tables as web

log = logging.getLogger(__name__)

SERVICES = (intake, routing, rules, sla, analytics, knowledge, web)  # each names and creates its own tables


def migrate(settings: Settings) -> None:
    """The event stores of intake, routing, SLA and the knowledge base (events, snapshots, tracking, the append-only
    trigger, the published log), every read model's tables, analytics' included, and the web's sessions."""
    for service in SERVICES:
        service.create_tables(settings)
    log.info("read models ready")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s migrate %(levelname)s %(name)s: %(message)s")
    settings = service_settings("migrate")
    migrate(settings)
    postgres = f"PostgreSQL {settings.postgres_host}:{settings.postgres_port}/{settings.postgres_dbname}"
    print(f"every table is in place ({settings.data_dir if settings.persistence == 'sqlite' else postgres})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
