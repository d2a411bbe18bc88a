"""`python -m services.sla what-if --tenant T --days N --candidate FILE.json`: what a changed SLA policy
would have done to the last N days of the tenant's tickets (the service itself runs as services.sla.main)."""

from __future__ import annotations

import sys

from services.sla.what_if.cli import main

if __name__ == "__main__":
    sys.exit(main())
