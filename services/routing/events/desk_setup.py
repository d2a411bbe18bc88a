"""What a desk's setup records: groups defined, the default group, memberships, and its ordered rules.

`DeskSetup` (domain.py) decides and names each class here (`GroupDefined = desk_setup.GroupDefined`...),
where eventsourcing makes it the class it stores, so each keeps its topic
`services.routing.domain:DeskSetup.<Event>`. Each applies itself to the setup. A rule's change names the
admin who made it, and so does every change of the groups and memberships (`by`,
chassis/domain/admin_changes.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.chassis.domain.admin_changes import AdminChange
from services.routing.desk_specs import RULES

if TYPE_CHECKING:
    from services.routing.domain import DeskSetup


class GroupDefined(AdminChange):
    group_id: str
    spec: dict[str, Any]

    def names(self) -> str | None:
        return self.group_id

    def apply(self, setup: DeskSetup) -> None:
        setup.groups = setup.groups | {self.group_id: self.spec}


class DefaultGroupChanged(AdminChange):
    group_id: str

    def names(self) -> str | None:
        return self.group_id

    def apply(self, setup: DeskSetup) -> None:
        setup.default_group = self.group_id


class MembershipSet(AdminChange):
    agent_id: str
    groups: list[str]

    def names(self) -> str | None:
        return self.agent_id

    def apply(self, setup: DeskSetup) -> None:
        members = {g: [a for a in agents if a != self.agent_id] for g, agents in setup.members.items()}
        for group_id in self.groups:
            members[group_id] = sorted({*members.get(group_id, []), self.agent_id})
        setup.members = members


class RuleAdded(AdminChange):
    rule: dict[str, Any]

    def names(self) -> str | None:
        return str(self.rule["rule_id"])

    def apply(self, setup: DeskSetup) -> None:
        setup.rules = RULES.added(setup.rules, self.rule)


class RuleChanged(AdminChange):
    rule: dict[str, Any]

    def names(self) -> str | None:
        return str(self.rule["rule_id"])

    def apply(self, setup: DeskSetup) -> None:
        setup.rules = RULES.changed(setup.rules, self.rule)


class RuleRetired(AdminChange):
    rule_id: str

    def names(self) -> str | None:
        return self.rule_id

    def apply(self, setup: DeskSetup) -> None:
        setup.rules = RULES.retired(setup.rules, self.rule_id)


class RulesReordered(AdminChange):
    rule_ids: list[str]

    def apply(self, setup: DeskSetup) -> None:
        setup.rules = RULES.reordered(setup.rules, self.rule_ids)
