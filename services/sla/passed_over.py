"""What of an organisation's own SLA the tenant's setup did not know, logged and counted.

An organisation names its SLA policy and calendar at intake, which cannot check them (choice.py); a ticket of
one naming a policy or calendar the setup lacks gets the rules' clock, and the desk hears of it here: a warning
in the log (with the tenant and ticket) and `servicedesk_sla_organisation_sla_passed_over{tenant, unknown}`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

log = logging.getLogger(__name__)

Noted = Callable[[str, str, str], None]  # (tenant, `policy` or `calendar`, the id the organisation named)


def unnoted(tenant: str, what: str, named: str) -> None:
    """Passed over in silence (tests that count nothing)."""


def passed_over_counted(registry: CollectorRegistry) -> Noted:
    """Log and count what of an organisation's SLA the setup did not know and the rules stood in for."""
    counter = Counter(
        "servicedesk_sla_organisation_sla_passed_over",
        "Tickets whose organisation named an SLA policy or calendar the tenant's setup lacks (the rules, or the "
        "policy's own calendar, counted instead), by which: policy, calendar.",
        ["tenant", "unknown"],
        registry=registry,
    )

    def noted(tenant: str, what: str, named: str) -> None:
        log.warning("the organisation's SLA %s %r is not defined: passed over for the rules' choice", what, named)
        counter.labels(tenant, what).inc()

    return noted
