"""Articles in the workspace: the list (filters and search), an article (as of any version), its
versions, the editor with a preview, publish and archive, and attachments.

Forms post, then redirect (post/redirect/get); a refused form is shown again with the API's message
beside the field it names and what was typed kept.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from services.web import forms, i18n
from services.web import tickets as ticket_pages  # its reading of a typed instant
from services.web.files import relayed_file
from services.web.gateway_client import Gateway, GatewayError, KbReader
from services.web.i18n import gettext_ as _
from services.web.kb.common import (
    LANGUAGES,
    STATUSES,
    ArticleForm,
    Draft,
    placed,
    preview,
    staff_only,
    statuses,
    tree,
    visibilities,
)
from services.web.kb.from_ticket import requester_words, ticket_draft
from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session

PAGE = 50


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    staff = staff_only(person)

    @pages.get("/kb")
    async def listing(
        request: Request,
        status: str = "",
        category: str = "",
        language: str = "",
        tag: str = "",
        q: str = "",
        after: str = "",
        session: Session = staff,
    ) -> Response:
        token = session.access_token
        filters = {"status": status if status in STATUSES else "", "category": category,
                   "language": language if language in LANGUAGES else "", "tag": tag.strip()}  # fmt: skip
        if q.strip():  # the search index holds the published articles: the words find those
            found, kinds = await asyncio.gather(
                gateway.kb_search(token, q.strip(), language=filters["language"], category=category, limit=PAGE),
                gateway.kb_categories(token),
            )
            listed, next_after = [], None
        else:
            page, kinds = await asyncio.gather(
                gateway.kb_articles(token, **filters, limit=PAGE, after=after or None), gateway.kb_categories(token)
            )
            found, listed, next_after = [], list(page["articles"]), page.get("next_after")
        return render(
            request,
            "kb_list.html",
            session,
            queues=queues_of(session),
            articles=listed,
            hits=found,
            searched_kb=q,
            filters=filters,
            next_after=next_after,
            categories=tree(kinds, i18n.current()),
            statuses=statuses(),
            languages=LANGUAGES,
        )

    async def editor(
        request: Request,
        session: Session,
        draft: Draft,
        article: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        shown_preview: bool = False,
        requester: list[str] | None = None,
    ) -> Response:
        kinds = await gateway.kb_categories(session.access_token)
        return render(
            request,
            "kb_editor.html",
            session,
            status_code,
            queues=queues_of(session),
            draft=draft,
            article=article,
            errors=errors or {},
            categories=tree(kinds, i18n.current()),
            visibilities=visibilities(),
            languages=LANGUAGES,
            preview=preview(draft.body) if shown_preview else None,
            requester=requester or [],
            form_key=forms.form_key(),
        )

    @pages.get("/kb/new")
    async def new(
        request: Request, ticket: str = "", translation_of: str = "", language: str = "", session: Session = staff
    ) -> Response:
        if ticket:
            found = await gateway.ticket(session.access_token, ticket)
            if found["status"] not in ("resolved", "closed"):
                raise GatewayError(409, {"detail": _("Only a resolved ticket becomes an article.")})
            draft = ticket_draft(found)
            return await editor(request, session, draft, requester=requester_words(found))
        return await editor(
            request, session, Draft(translation_of=translation_of, language=language if language in LANGUAGES else "en")
        )

    @pages.post("/kb/articles")
    async def create(request: Request, form: Annotated[ArticleForm, Form()], session: Session = staff) -> Response:
        forms.check_form_token(session, form.csrf_token)
        draft = form.draft()
        requester = await _requester_of(gateway, session, draft.source_ticket)
        if form.show_preview:
            return await editor(request, session, draft, shown_preview=True, requester=requester)
        if not draft.title.strip():
            return await editor(request, session, draft, None, {"title": _("Give the article a title.")}, 422,
                                requester=requester)  # fmt: skip
        fields = draft.fields() | {
            "translation_of": draft.translation_of.strip() or None,
            "source_ticket": draft.source_ticket.strip() or None,
        }
        try:
            made = await gateway.kb_draft(session.access_token, fields, form.form_key or forms.form_key())
        except GatewayError as error:
            return await editor(request, session, draft, None, placed(error, "title"), 422, requester=requester)
        return RedirectResponse(f"/kb/articles/{made['id']}", status_code=303)

    @pages.get("/kb/articles/{article_id}")
    async def article(request: Request, article_id: str, as_of: str = "", session: Session = staff) -> Response:
        instant = ticket_pages._instant(as_of, session.time_zone) if as_of else None
        token = session.access_token
        found, kinds = await asyncio.gather(
            gateway.kb_article(token, article_id, instant), gateway.kb_categories(token)
        )
        if instant is None:
            await _quietly(gateway.kb_viewed(token, article_id, "web"))
        names = {c.slug: c.name for c in tree(kinds, i18n.current())}
        return render(
            request,
            "kb_article.html",
            session,
            queues=queues_of(session),
            article=found,
            category_name=names.get(found.get("category") or "", found.get("category")),
            as_of=instant,
            statuses=statuses(),
            visibilities=visibilities(),
            errors={},
            form_key=forms.form_key(),
        )

    @pages.get("/kb/articles/{article_id}/edit")
    async def edit(request: Request, article_id: str, session: Session = staff) -> Response:
        found = await gateway.kb_article(session.access_token, article_id)
        return await editor(request, session, Draft.of(found), found)

    @pages.post("/kb/articles/{article_id}")
    async def revise(
        request: Request, article_id: str, form: Annotated[ArticleForm, Form()], session: Session = staff
    ) -> Response:
        forms.check_form_token(session, form.csrf_token)
        current = await gateway.kb_article(session.access_token, article_id)
        draft = form.draft().model_copy(update={"source_ticket": ""})  # a revision keeps the article's source
        shown = current | {"version": form.version or current["version"]}
        if form.show_preview:
            return await editor(request, session, draft, shown, shown_preview=True)
        if not draft.title.strip():
            return await editor(request, session, draft, shown, {"title": _("Give the article a title.")}, 422)
        changes = draft.changed_from(current)
        if changes:
            try:
                await gateway.kb_revise(session.access_token, article_id, changes, form.version or None)
            except GatewayError as error:
                return await editor(request, session, draft, shown, placed(error, "title"), 422)
        return RedirectResponse(f"/kb/articles/{article_id}", status_code=303)

    @pages.get("/kb/articles/{article_id}/history")
    async def history(request: Request, article_id: str, session: Session = staff) -> Response:
        token = session.access_token
        found, versions = await asyncio.gather(
            gateway.kb_article(token, article_id), gateway.kb_history(token, article_id)
        )
        return render(
            request,
            "kb_history.html",
            session,
            queues=queues_of(session),
            article=found,
            versions=list(reversed(versions)),
            statuses=statuses(),
        )

    @pages.post("/kb/articles/{article_id}/attachments")
    async def upload(
        request: Request,
        article_id: str,
        file: UploadFile,
        csrf_token: Annotated[str, Form()] = "",
        session: Session = staff,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        token = session.access_token
        error: dict[str, str] = {}
        if not file.filename:
            error = {"file": _("Choose a file first.")}
        else:
            kind = file.content_type or "application/octet-stream"
            try:
                await gateway.kb_attach(token, article_id, file.filename, kind, await file.read())
            except GatewayError as refused:
                error = placed(refused, "file")
        if not error:
            return RedirectResponse(f"/kb/articles/{article_id}#files-title", status_code=303)
        found = await gateway.kb_article(token, article_id)
        return render(
            request,
            "kb_article.html",
            session,
            422,
            queues=queues_of(session),
            article=found,
            category_name=found.get("category"),
            as_of=None,
            statuses=statuses(),
            visibilities=visibilities(),
            errors=error,
            form_key=forms.form_key(),
        )

    @pages.get("/kb/articles/{article_id}/attachments/{attachment_id}")
    async def download(request: Request, article_id: str, attachment_id: str, session: Session = staff) -> Response:
        answer = await gateway.kb_download(KbReader(session.tenant, session.access_token), article_id, attachment_id)
        return relayed_file(answer)

    # after the attachments' route, which this one's pattern would take too
    @pages.post("/kb/articles/{article_id}/{action}")
    async def move(
        request: Request,
        article_id: str,
        action: str,
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = staff,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        if action not in ("publish", "archive"):
            raise GatewayError(404, {"detail": _("There is no such action.")})
        await gateway.kb_move(session.access_token, article_id, action, form_key or forms.form_key())
        return RedirectResponse(f"/kb/articles/{article_id}", status_code=303)

    return pages


async def _requester_of(gateway: Gateway, session: Session, ticket_id: str) -> list[str]:
    """The requester's words of the ticket a draft is made from, shown again beside a refused form."""
    if not ticket_id.strip():
        return []
    try:
        return requester_words(await gateway.ticket(session.access_token, ticket_id.strip()))
    except GatewayError:
        return []


async def _quietly(call: Any) -> None:
    """A read counted when the API takes it; the article shows either way."""
    try:
        await call
    except GatewayError:
        return
