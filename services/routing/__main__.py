"""`python -m services.routing what-if --tenant T --days N --candidate FILE.json`: what routing would have
decided over the tenant's last N days under a candidate rule set (FILE: `{"rules": [...], "strategies":
{...}}`, services/routing/what_if.py), beside what the current rules decide; the report as JSON on stdout, a
progress bar on stderr. Nothing is written to the live desk. (The service itself runs with
`python -m services.routing.main`.)"""

from __future__ import annotations

import sys

from services.chassis.runtime.cli import service_settings
from services.chassis.whatif.cli import main
from services.chassis.whatif.replay import Replay
from services.routing.what_if import desk_replay


def replay() -> Replay:
    return desk_replay(service_settings("routing"))


if __name__ == "__main__":
    sys.exit(main("routing", replay, __doc__ or ""))
