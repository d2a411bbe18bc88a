"""`python -m services.rules what-if --tenant T --days N --candidate FILE.json`: what a draft trigger (FILE: as
`POST /v1/triggers` takes it, or with `trigger_id` a revision of one) would have done to the tenant's last N
days, replayed in a sandbox beside the live desk (read only: nothing recorded, nothing published)."""

from __future__ import annotations

import sys

from services.chassis.runtime.cli import service_settings
from services.chassis.storage.store import store_env
from services.chassis.whatif.cli import main
from services.rules.application import Rules
from services.rules.what_if import TriggerWhatIf, on_desk


def replay() -> TriggerWhatIf:
    settings = service_settings("rules")
    return on_desk(Rules(env=store_env(settings, Rules.name)), settings)


if __name__ == "__main__":
    sys.exit(main("rules", replay, __doc__ or ""))
