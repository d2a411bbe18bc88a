"""What the knowledge base's pages share: who may use them, the article's fields as the editor holds
them, the categories as a tree, and a Markdown preview."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends
from markdown_it import MarkdownIt
from pydantic import BaseModel, ConfigDict

from services.web import forms
from services.web.gateway_client import GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

LANGUAGES = ("en", "ru")
STATUSES = ("draft", "published", "archived")
VISIBILITIES = ("public", "internal", "organisations")
ARTICLE_FIELDS = (
    "title", "body", "category", "tags", "visibility", "organisations", "language", "translation_of", "file",
)  # fmt: skip
# Raw HTML is shown as typed, never run; links go through markdown-it's check (no `javascript:`).
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def staff_only(person: Any) -> Any:
    """A route dependency: the signed-in agent's, supervisor's or admin's session; a customer is refused."""

    async def dependency(session: Session = person) -> Session:
        if not session.is_staff:
            raise GatewayError(403, {"detail": _("Only the desk's staff edit the knowledge base.")})
        return session

    return Depends(dependency)


def preview(markdown: str) -> str:
    """The body as the editor's preview shows it (the service renders what readers see)."""
    return str(_MARKDOWN.render(markdown))


def visibilities() -> dict[str, str]:
    return {
        "public": _("Public: everyone"),
        "internal": _("Internal: agents only"),
        "organisations": _("Only these organisations"),
    }


def statuses() -> dict[str, str]:
    return {"draft": _("Draft"), "published": _("Published"), "archived": _("Archived")}


class Draft(BaseModel):
    """An article's fields as the editor's form holds them (text), and as the API takes them."""

    model_config = ConfigDict(frozen=True)

    title: str = ""
    body: str = ""
    category: str = ""
    tags: str = ""
    visibility: str = "public"
    organisations: str = ""
    language: str = "en"
    translation_of: str = ""
    source_ticket: str = ""

    @classmethod
    def of(cls, article: dict[str, Any]) -> Draft:
        return cls(
            title=article.get("title") or "",
            body=article.get("body") or "",
            category=article.get("category") or "",
            tags=", ".join(article.get("tags") or []),
            visibility=article.get("visibility") or "public",
            organisations=", ".join(article.get("organisations") or []),
            language=article.get("language") or "en",
            translation_of=article.get("translation_of") or "",
            source_ticket=article.get("source_ticket") or "",
        )

    def fields(self) -> dict[str, Any]:
        """The API's article fields (not `source_ticket` nor `translation_of`, which only a new one takes:
        an article's translations are linked when the translation is written)."""
        return {
            "title": self.title.strip(),
            "body": self.body,
            "category": self.category or None,
            "tags": forms.words(self.tags),
            "visibility": self.visibility,
            "organisations": forms.words(self.organisations) if self.visibility == "organisations" else [],
            "language": self.language,
        }

    def changed_from(self, article: dict[str, Any]) -> dict[str, Any]:
        """The fields whose value differs from the article's, so its version names only what changed."""
        now = self.fields()
        before = Draft.of(article).fields()
        return {name: value for name, value in now.items() if value != before[name]}


class ArticleForm(Draft):
    """The editor's form as posted, a new article's or a revision's: the draft and the form's own fields."""

    version: int = 0  # a revision's: the version the agent edited
    show_preview: str = ""  # set by the preview button: show, do not save
    form_key: str = ""  # a new article's: makes a double submit one article
    csrf_token: str = ""

    def draft(self) -> Draft:
        return Draft.model_validate(self.model_dump(include=set(Draft.model_fields)))


@dataclass(frozen=True)
class Category:
    """One category in the tree: its depth (indentation) and its name in the person's language."""

    slug: str
    name: str
    names: dict[str, str]
    parent: str | None
    position: int
    depth: int = 0
    children: list[str] = field(default_factory=list)


def tree(found: list[dict[str, Any]], language: str) -> list[Category]:
    """The categories in tree order (each after its parent, siblings by position then slug); a category
    whose parent is unknown (or in a loop the API refused to make) is shown at the top."""
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    slugs = {c["slug"] for c in found}
    for c in found:
        by_parent.setdefault(c.get("parent") if c.get("parent") in slugs else None, []).append(c)
    order: list[Category] = []
    seen: set[str] = set()

    def walk(parent: str | None, depth: int) -> None:
        for c in sorted(by_parent.get(parent, []), key=lambda c: (int(c.get("position") or 0), c["slug"])):
            if c["slug"] in seen:
                continue
            seen.add(c["slug"])
            names = dict(c.get("names") or {})
            name = names.get(language) or next(iter(names.values()), c["slug"])
            children = [k["slug"] for k in by_parent.get(c["slug"], [])]
            order.append(
                Category(c["slug"], name, names, c.get("parent"), int(c.get("position") or 0), depth, children)
            )
            walk(c["slug"], depth + 1)

    walk(None, 0)
    return order


def placed(error: GatewayError, default: str, known: tuple[str, ...] = ARTICLE_FIELDS) -> dict[str, str]:
    return forms.beside(error, known, default)
