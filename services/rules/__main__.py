"""`python -m services.rules what-if --tenant T --days N --candidate FILE.json`: what a draft trigger (FILE: as
`POST /v1/triggers` takes it, or with `trigger_id` a revision of one) would have done to the tenant's last N
days, replayed in a sandbox beside the live desk (read only: nothing recorded, nothing published). The SLA
calendars and custom fields the draft names are read from the SLA service and intake as an admin of the tenant,
as when a trigger is saved."""

from __future__ import annotations

import asyncio
import sys
import uuid

from services.chassis.http.auth import Principal, Role
from services.chassis.http.identity import Identity, verifier_of
from services.chassis.runtime.cli import service_settings
from services.chassis.storage.store import store_env
from services.chassis.whatif.cli import main
from services.chassis.whatif.replay import WhatIfRequest
from services.rules.application import Rules
from services.rules.calendars import SlaCalendars
from services.rules.field_kinds import IntakeFields
from services.rules.what_if import Lookups, TriggerWhatIf, on_desk

SUBJECT = "what-if command line"


def replay() -> TriggerWhatIf:
    settings = service_settings("rules")
    return on_desk(Rules(env=store_env(settings, Rules.name)), settings)


def looked_up(request: WhatIfRequest) -> WhatIfRequest:
    """`request` with what its draft names of other services, read as an admin of its tenant."""
    settings = service_settings("rules")
    verifier = verifier_of(settings)
    lookups = Lookups(SlaCalendars(settings.url_of("sla"), verifier), IntakeFields(settings.url_of("intake"), verifier))
    admin = Identity(Principal(request.tenant, SUBJECT, frozenset({Role.ADMIN})), correlation_id=str(uuid.uuid4()))
    return asyncio.run(lookups(request, admin))


if __name__ == "__main__":
    sys.exit(main("rules", replay, __doc__ or "", prepare=looked_up))
