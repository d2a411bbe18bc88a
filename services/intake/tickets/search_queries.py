"""A parsed search (words and phrases as keyed tokens) as each database's full-text query says it."""

from __future__ import annotations

from services.intake.privacy.search_tokens import Query, Term


def tsquery(query: Query) -> str:
    """A query of tokens for PostgreSQL's `to_tsquery` (tokens are letters only: no syntax in them)."""
    groups = [
        "(" + " | ".join(("!" if t.negated else "") + "(" + " <-> ".join(t.tokens) + ")" for t in group) + ")"
        for group in query
    ]
    return " & ".join(groups) if any(not t.negated for group in query for t in group) else ""


def fts5_query(query: Query) -> str:
    """The same for SQLite's FTS5, whose NOT needs something to subtract from: every word in double
    quotes, alternatives in parentheses, negated words after the rest."""
    wanted = [group for group in query if not (len(group) == 1 and group[0].negated)]
    unwanted = [group[0] for group in query if len(group) == 1 and group[0].negated]
    if not wanted:
        return ""

    def phrase(term: Term) -> str:
        return '"' + " ".join(term.tokens) + '"'

    rendered = " AND ".join("(" + " OR ".join(phrase(t) for t in group) + ")" for group in wanted)
    return rendered + "".join(f" NOT {phrase(term)}" for term in unwanted)
