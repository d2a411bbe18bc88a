"""The knowledge base in the agents' workspace: articles (list, editor, versions, attachments),
categories, and what the ticket page does with articles (suggestions, a solution, a reply, a draft)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.web.gateway_client import Gateway
from services.web.kb import articles, categories


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    pages.include_router(categories.router(gateway, person))
    pages.include_router(articles.router(gateway, person))
    return pages
