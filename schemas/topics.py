"""Topic names: `<service>.<stream>`, each with a dead-letter twin `<topic>.dlq`."""

TICKETS = "intake.tickets"
ROUTING_DECISIONS = "routing.decisions"
SLA_CLOCKS = "sla.clocks"
KNOWLEDGE_ARTICLES = "knowledge.articles"
RULES_ACTIONS = "rules.actions"

PUBLIC_TOPICS = (TICKETS, ROUTING_DECISIONS, SLA_CLOCKS, KNOWLEDGE_ARTICLES, RULES_ACTIONS)
# Intake's signed checkpoints of its store: for auditors, not a ticket stream (no tenant of its own).
CHECKPOINTS = "intake.checkpoints"


def dead_letter(topic: str) -> str:
    """The dead-letter topic of `topic`."""
    return f"{topic}.dlq"
