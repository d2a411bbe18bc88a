"""The customer portal of a tenant, at `/t/<tenant>/...`: its knowledge base for anyone, and for a
signed-in customer their requests. A client of the gateway API only, like the rest of the pages."""

from __future__ import annotations

from fastapi import APIRouter

from services.web.gateway_client import Gateway
from services.web.portal import knowledge, requests, tickets
from services.web.portal.visitor import signed_in, visitor
from services.web.signin import SignIn


def router(gateway: Gateway, sign_in: SignIn) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    customer = signed_in(sign_in)
    pages.include_router(knowledge.router(gateway, visitor(sign_in)))
    pages.include_router(requests.router(gateway, customer))  # before tickets: `/tickets/new` is no ticket id
    pages.include_router(tickets.router(gateway, customer))
    return pages
