"""Topic names: `<service>.<stream>`, each with a dead-letter twin `<topic>.dlq`."""

TICKETS = "intake.tickets"
ROUTING_DECISIONS = "routing.decisions"
SLA_CLOCKS = "sla.clocks"

PUBLIC_TOPICS = (TICKETS, ROUTING_DECISIONS, SLA_CLOCKS)


def dead_letter(topic: str) -> str:
    """The dead-letter topic of `topic`."""
    return f"{topic}.dlq"
