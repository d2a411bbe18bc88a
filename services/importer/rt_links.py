"""What becomes of a Request Tracker ticket's links to other tickets (RefersTo, DependsOn, MemberOf and their
other sides) and of a merge into it.

RT records a link on both tickets; here it is recorded once, on both, when the later of the two is imported
(the run goes oldest first; or a later run imports it), at the instant the later one's transaction says. A
link made as a ticket was created is recorded by RT on the other ticket only: it is the link the ticket has
now that none of its transactions records, at its creation. A link to a ticket merged into another is a link
to that other (RT moved it there). A link to a ticket that is neither in the import nor imported before is
listed with the reason (an import of that ticket later links the two).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

from services.importer.rt_client import RtTicket, RtTransaction
from services.intake.tickets.importing import ImportedStep
from services.intake.tickets.vocabulary import LinkKind

# RT's kinds of link, as the ticket that has it says them, and ours (RT's own word stays in the reason).
KINDS = {"RefersTo": LinkKind.RELATED, "ReferredToBy": LinkKind.RELATED, "DependsOn": LinkKind.RELATED,
         "DependedOnBy": LinkKind.RELATED, "MemberOf": LinkKind.CHILD_OF, "HasMember": LinkKind.PARENT_OF}  # fmt: skip
_TICKET = re.compile(r"^fsck\.com-rt://[^/]+/ticket/(\d+)$")
Actor = tuple[str, bool]  # an actor here, and whether they are staff


def ticket_of(uri: str) -> str | None:
    """The RT ticket id a link's URI names (`fsck.com-rt://<rtname>/ticket/<id>`); None: no ticket."""
    found = _TICKET.match(uri.strip())
    return found[1] if found else None


class Links:
    """`effective` answers the id an RT ticket has now (the one it was merged into; None: there is none),
    `keys` are this run's tickets in the order it imports them, `imported_before` whether one was."""

    def __init__(
        self, effective: Callable[[str], str | None], keys: Sequence[str], imported_before: Callable[[str], bool]
    ) -> None:
        self.effective = effective
        self.order = {key: n for n, key in enumerate(keys)}
        self.imported_before = imported_before

    def created(
        self, rt: RtTicket, at: datetime, actor: Actor, group: set[str], unmapped: list[str]
    ) -> list[ImportedStep]:
        """The links `rt` has now that no transaction of it (or of a ticket merged into it) records."""
        recorded = {
            (t.field, self._now(other))
            for t in rt.transactions
            if t.type == "AddLink" and (other := ticket_of(t.new)) is not None
        }
        steps = []
        for field, other in rt.links:
            if (field, other) in recorded:
                continue
            step, reason = self._link(rt.id, "link", field, other, f"links/{field}/{other}", at, actor, group)
            if step is not None:
                steps.append(step)
            elif reason:
                unmapped.append(f"link {reason}")
        return steps

    def step(
        self, rt: RtTicket, t: RtTransaction, actor: Actor, group: set[str], on: str | None
    ) -> tuple[ImportedStep | None, str | None]:
        """An AddLink or DeleteLink transaction of `rt` (or, `on`, of a ticket merged into it) as a step."""
        if t.field == "MergedInto":
            if on is None:
                return None, None  # the other side of a merge into it: the merged ticket's transaction records it
            into = ticket_of(t.new)
            return ImportedStep(t.id, t.at, actor[0], "merge", into if into in group else rt.id, actor[1]), None
        if t.field not in KINDS:
            return None, f"a link {t.field!r}: nothing here records it"
        uri = t.new if t.type == "AddLink" else t.old
        other = ticket_of(uri)
        if other is None:
            return None, f"{t.field} {uri!r} is no ticket of this RT: nothing here records it"
        kind = "link" if t.type == "AddLink" else "unlink"
        return self._link(rt.id, kind, t.field, other, t.id, t.at, actor, group)

    def _now(self, other: str) -> str | None:
        """The id ticket `other` has now: a ticket the run lists is no merged one (RT lists none)."""
        return other if other in self.order else self.effective(other)

    def _link(
        self, this: str, kind: str, field: str, other: str, source_id: str, at: datetime, actor: Actor, group: set[str]
    ) -> tuple[ImportedStep | None, str | None]:
        now = self._now(other)
        if now is None:
            return None, f"{field} RT #{other}: there is no such ticket (or the token does not see it)"
        if now in group:
            return None, None  # merged into the same ticket there
        if now in self.order:
            if self.order[now] > self.order.get(this, len(self.order)):
                return None, None  # imported after this one: its import links the two
        elif not self.imported_before(now):
            return None, (
                f"{field} RT #{other}: that ticket is not in this import, nor imported before (an import of it "
                "links the two)"
            )
        value = {"ticket": now, "kind": KINDS[field].value, "as": field}
        return ImportedStep(source_id, at, actor[0], kind, value, actor[1]), None
