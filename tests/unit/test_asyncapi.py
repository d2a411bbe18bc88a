"""Each service's AsyncAPI 3 document names what it publishes and consumes, with the schemas."""

from __future__ import annotations

from schemas.topics import KNOWLEDGE_ARTICLES, ROUTING_DECISIONS, SLA_CLOCKS, TICKETS
from services.chassis.http.asyncapi import document


def test_routings_document_shows_its_decisions_and_the_ticket_and_sla_events_it_consumes() -> None:
    doc = document("routing", "1.0.0", [ROUTING_DECISIONS], {TICKETS: "routing", SLA_CLOCKS: "routing"})
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["channels"]) == {"routing.decisions:publish", "intake.tickets:routing", "sla.clocks:routing"}
    actions = {name: op["action"] for name, op in doc["operations"].items()}
    assert actions == {"routing.decisions:publish": "send", "intake.tickets:routing": "receive",
                       "sla.clocks:routing": "receive"}  # fmt: skip
    schemas = set(doc["components"]["schemas"])
    assert {"RoutingDecidedV1", "TicketOpenedV4", "TicketStatusChangedV1", "SlaWarningV1", "SlaBreachedV1"} <= schemas


def test_the_knowledge_services_document_shows_every_article_and_reader_event_it_publishes() -> None:
    doc = document("knowledge", "1.0.0", [KNOWLEDGE_ARTICLES], {})
    assert set(doc["channels"]) == {"knowledge.articles:publish"}
    schemas = set(doc["components"]["schemas"])
    assert {"ArticleDraftedV1", "ArticleRevisedV1", "ArticlePublishedV1", "ArticleArchivedV1", "ArticleViewedV1",
            "ArticleRatedV1", "SelfServiceEndedV1"} <= schemas  # fmt: skip
