"""`/authorize`: the sign-in page listing the seeded people, and its form, which grants a code to
the client that asked and sends the person back to it (post, then redirect)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from services.dev_identity import authorization
from services.dev_identity.authorization import AuthorizationRequest, RedirectedError, SignInRefused
from services.dev_identity.people import PEOPLE, person, tenants
from services.dev_identity.provider import Provider, provider_of

router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.trim_blocks = templates.env.lstrip_blocks = True


@router.get("/authorize", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> Response:
    return _answered(request, provider_of(request), request.query_params, chosen=None)


@router.post("/authorize", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    form = {name: value for name, value in (await request.form()).items() if isinstance(value, str)}
    return _answered(request, provider_of(request), form, chosen=form)


def _answered(request: Request, provider: Provider, params: Mapping[str, str], chosen: Mapping[str, str] | None
              ) -> Response:  # fmt: skip
    try:
        asked = authorization.checked(provider.clients, params)
    except SignInRefused as refused:
        return refusal(request, str(refused))
    except RedirectedError as error:
        return RedirectResponse(error.location, status_code=302 if chosen is None else 303)
    if chosen is None:
        return page(request, asked)
    if "cancel" in chosen:
        return RedirectResponse(asked.answered(error="access_denied"), 303)
    someone = person(chosen.get("person", ""))
    if someone is None:
        return refusal(request, "Choose one of the people listed to sign in as.")
    code = provider.codes.grant(asked.client_id, asked.redirect_uri, asked.scope, asked.code_challenge, asked.nonce,
                                someone)  # fmt: skip
    return RedirectResponse(asked.answered(code=code), 303)


def page(request: Request, asked: AuthorizationRequest) -> Response:
    people = {tenant: [someone for someone in PEOPLE if someone.tenant == tenant] for tenant in tenants()}
    return templates.TemplateResponse(request, "sign_in.html", {"asked": asked, "people": people},
                                      headers={"Cache-Control": "no-store"})  # fmt: skip


def refusal(request: Request, reason: str) -> Response:
    return templates.TemplateResponse(request, "refused.html", {"reason": reason}, status_code=400)
