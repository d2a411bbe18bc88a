"""What `/v1/macros` takes and answers: a macro's spec (title, a body per language, visibility, actions)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.tickets import Priority
from services.intake.http.tickets import Tag
from services.intake.macros.domain import Macro, Scope, Visibility

Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
Body = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
GroupId = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Bodies = Annotated[
    dict[Language, Body],
    Field(
        min_length=1,
        max_length=10,
        description='A body per language (`{"en": "...", "ru": "..."}`), in the sandboxed Jinja2 of notifications: '
        "`{{ ticket.number }}`, `ticket.title`, `ticket.status`, `ticket.priority`, `requester.name`, "
        "`agent.name`, `sla.due` (blank when unknown), `kb.link('<article id>')`, `kb_url`. A body that does not "
        "render for a sample ticket is refused (422 naming `body.<language>`).",
    ),
]


class TargetStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class MacroActions(BaseModel):
    """What the macro sets besides replying; each omitted part is left as it is."""

    model_config = ConfigDict(extra="forbid")
    status: TargetStatus | None = Field(
        default=None, description="Brought there by the command the ticket's status allows (start work, resolve...)."
    )
    status_reason: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    pending_hours: int | None = Field(default=None, ge=1, le=24 * 60, description="With `pending`: how long to wait.")
    priority: Priority | None = None
    tags_add: list[Tag] = Field(default_factory=list, max_length=20)
    tags_remove: list[Tag] = Field(default_factory=list, max_length=20)
    custom_fields: dict[str, Any] = Field(default_factory=dict, description="Checked against the tenant's fields.")
    group_id: GroupId | None = Field(default=None, description="Hand the ticket over to this group (no agent).")

    @model_validator(mode="after")
    def a_tag_is_added_or_removed_not_both(self) -> MacroActions:
        if both := set(self.tags_add) & set(self.tags_remove):
            raise ValueError(f"tags both added and removed: {sorted(both)}")
        return self


class MacroChange(BaseModel):
    """A revision: only the parts given change (`body` replaces all the bodies, `actions` all the actions); a part
    given as null stays as it is (`groups: []` makes a shared macro every group's)."""

    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)] | None = None
    body: Bodies | None = None
    visibility: Visibility | None = None
    groups: list[GroupId] | None = Field(default=None, max_length=50)
    actions: MacroActions | None = None


class MacroSpec(MacroChange):
    scope: Scope = Field(
        default=Scope.PERSONAL,
        description="`personal`: the caller's own (any of the staff); `shared`: the tenant's, for `groups` "
        "(all the staff when none), made and changed by supervisors and admins.",
    )
    title: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    body: Bodies
    visibility: Visibility = Field(default=Visibility.PUBLIC, description="A reply, or an internal note.")
    groups: list[GroupId] = Field(default_factory=list, max_length=50)
    actions: MacroActions = Field(default_factory=MacroActions)

    @model_validator(mode="after")
    def only_a_shared_macro_has_groups(self) -> MacroSpec:
        if self.groups and self.scope == Scope.PERSONAL:
            raise ValueError("groups: only a shared macro is limited to groups")
        return self

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"scope"})


class MacroView(BaseModel):
    id: str
    scope: Scope
    owner: str
    title: str
    body: dict[str, str]
    visibility: Visibility
    groups: list[str]
    actions: MacroActions
    version: int
    retired: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, macro: Macro) -> MacroView:
        spec = macro.spec
        return cls(
            id=str(macro.id), scope=Scope(macro.scope), owner=macro.owner, title=spec["title"], body=spec["body"],
            visibility=spec["visibility"], groups=spec["groups"] or [], actions=MacroActions(**spec["actions"]),
            version=macro.version, retired=macro.retired, created_at=macro.created_on, updated_at=macro.modified_on,
        )  # fmt: skip


class MacroList(BaseModel):
    macros: list[MacroView]


class MacroVersion(BaseModel):
    version: int
    event: str = Field(description="`macro.created`, `macro.revised` or `macro.retired`.")
    at: datetime
    actor: str
    spec: dict[str, Any] | None = Field(description="The macro as this version left it (none for a retirement).")


class MacroVersions(BaseModel):
    versions: list[MacroVersion]


class ApplyMacro(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Language | None = Field(
        default=None, description="The body's language; by default the requester's (else the desk's, else English)."
    )


class MacroPreview(BaseModel):
    macro_id: str
    version: int
    language: str
    body: str = Field(description="The reply as applying would add it.")
    visibility: Visibility
    actions: dict[str, Any] = Field(description="What applying would set besides the reply.")
