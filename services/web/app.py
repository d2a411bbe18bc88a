"""The web service's pages, assembled: sign-in, the queues, static assets, and the answers to
a person who is not signed in or sent a forged form."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from services.web import (
    admin,
    bulk,
    i18n,
    kb,
    live,
    macro_library,
    people,
    portal,
    preferences,
    presence,
    queues,
    saved_views,
    search,
    signin,
    supervision,
    tickets,
)
from services.web.forms import ForgedFormError
from services.web.gateway_client import Gateway, GatewayError, SignedOutError
from services.web.pages import render
from services.web.reports import pages as reports
from services.web.signin import SignIn, SignInRequiredError

HERE = Path(__file__).parent
VENDOR = HERE / "assets" / "node_modules"  # the pinned packages of assets/package.json (npm ci)
SESSION_COOKIE = "servicedesk_session"


def mount_pages(app: FastAPI, sign_in: SignIn, gateway: Gateway, session_secret: str, secure: bool) -> None:
    person = signin.signed_in(sign_in)
    app.include_router(signin.router(sign_in))
    app.include_router(queues.router(gateway, person))
    app.include_router(tickets.router(gateway, person))
    app.include_router(presence.router(gateway, person))
    app.include_router(search.router(gateway, person))
    app.include_router(supervision.router(gateway, person))
    app.include_router(people.router(gateway, person))
    admin.mount(app, sign_in, gateway, person)
    app.include_router(bulk.router(gateway, person))
    app.include_router(saved_views.router(gateway, person))
    app.include_router(macro_library.router(gateway, person))
    app.include_router(live.router(gateway, person))
    app.include_router(reports.router(gateway, person))
    app.include_router(kb.router(gateway, person))
    app.include_router(preferences.router(sign_in.sessions, sign_in.preferences, person))
    app.include_router(portal.router(gateway, sign_in))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/vendor", StaticFiles(directory=VENDOR, check_dir=False), name="vendor")
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret,
        session_cookie=SESSION_COOKIE,
        same_site="lax",
        https_only=secure,
        max_age=12 * 3600,
    )

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        session = sign_in.session_of(request)
        if session is None:
            return RedirectResponse("/signin", status_code=303)
        if not session.is_staff:  # a customer lands on their desk's portal, not the agents' workspace
            return RedirectResponse(f"/t/{session.tenant}/tickets", status_code=303)
        return RedirectResponse("/queues/mine", status_code=303)

    @app.exception_handler(SignInRequiredError)
    async def sign_in_first(request: Request, error: SignInRequiredError) -> Response:
        if request.headers.get("HX-Request"):  # htmx follows no redirect to another site: send it whole
            return Response(status_code=401, headers={"HX-Redirect": "/signin"})
        return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)

    @app.exception_handler(SignedOutError)
    async def signed_out(request: Request, error: SignedOutError) -> Response:
        request.session.clear()
        return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)

    @app.exception_handler(GatewayError)
    async def refused(request: Request, error: GatewayError) -> Response:
        """What the API would not do, or could not (a service down): said on a page, never a 500."""
        session = sign_in.session_of(request)
        i18n.use(i18n.choose(session.locale if session else None, request.headers.get("accept-language")))
        status = error.status if 400 <= error.status < 500 else 502
        return render(request, "refused.html", session, status, reason=str(error), title=i18n.gettext_("Not done"))

    @app.exception_handler(ForgedFormError)
    async def forged(request: Request, error: ForgedFormError) -> Response:
        i18n.use(i18n.choose(None, request.headers.get("accept-language")))
        reason = i18n.gettext_("This form is out of date or came from another site. Reload the page and try again.")
        return render(request, "refused.html", None, 403, reason=reason)
