"""The bodies routing's API accepts (`/v1/routing`), each validated at the edge: groups, rules,
their order, agents, presence, escalations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from schemas.keywords import WORD_PATTERN, is_word
from services.routing.choosing import Presence, Strategy

NAME = r"^[a-z0-9][a-z0-9_.:-]{0,62}$"
Name = Annotated[str, Field(pattern=NAME)]
Word = Annotated[str, Field(min_length=1, max_length=64)]


def _a_tickets_word(word: str) -> str:
    """The pattern as the ticket's tokenizer reads it (the `pattern` below only documents it)."""
    if not is_word(word):
        raise PydanticCustomError(
            "string_pattern_mismatch", "String should match pattern '{pattern}'", {"pattern": f"^{WORD_PATTERN}$"}
        )
    return word


# What a ticket's words are (schemas/keywords.py): a rule's word of another shape could never match.
KeywordWord = Annotated[
    str,
    Field(pattern=f"^{WORD_PATTERN}$", description="Letters only, 2 to 40 of them: a word as tickets have them."),
    AfterValidator(_a_tickets_word),
]


class GroupSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: int = Field(ge=1, le=3, description="1st, 2nd or 3rd line.")
    strategy: Strategy = Strategy.LEAST_LOADED
    escalates_to: Name | None = Field(None, description="The next tier's group.")
    escalate_on: list[Literal["warning", "breach"]] = Field(
        default_factory=list, description="SLA events on which a ticket of this group escalates automatically."
    )
    default: bool = Field(False, description="Tickets no rule matches come here. The first group is the default.")


class RuleSpec(BaseModel):
    """A ticket matches when every condition given holds (each a list: any one value matches)."""

    model_config = ConfigDict(extra="forbid")

    group_id: Name
    categories: list[Word] = Field(default_factory=list)
    types: list[Literal["incident", "request", "question", "problem"]] = Field(default_factory=list)
    priorities: list[Literal["P1", "P2", "P3", "P4"]] = Field(default_factory=list)
    channels: list[Literal["api", "email", "chat", "messenger", "phone", "portal"]] = Field(default_factory=list)
    tags: list[Word] = Field(default_factory=list)
    organisations: list[Word] = Field(default_factory=list)
    words: list[KeywordWord] = Field(
        default_factory=list,
        description="Words of the title or description (any case; letters only, as the ticket's words are read).",
    )
    skills: list[Word] = Field(default_factory=list, description="Skills the chosen agent must have.")

    def as_rule(self, rule_id: str) -> dict[str, Any]:
        spec = self.model_dump(mode="json")
        spec["words"] = sorted({w.lower() for w in self.words})
        return {"rule_id": rule_id} | spec


class NewRule(RuleSpec):
    rule_id: Name


class RuleOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule_ids: list[Name]


class AgentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    groups: list[Name] = Field(min_length=1)
    skills: list[Word] = Field(default_factory=list)
    tier: int = Field(1, ge=1, le=3)
    capacity: int = Field(ge=0, le=1000, description="Most open tickets at once.")


class PresenceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presence: Presence


class EscalationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)
