"""The desk's people and organisations as SCIM 2.0 resources (RFC 7643), and SCIM's users back as people.

A SCIM User is a person: `userName` is their e-mail address (the desk knows people by their addresses, so a
user name that is no e-mail address is refused), `emails` their other e-mail addresses, `name` and
`displayName` their name, `preferredLanguage` (or `locale`) their language, `timezone` theirs, `active`
whether their identity provider still has them. A SCIM Group is an organisation: `displayName` its name,
`members` the people in it (a person is in one organisation at a time, so joining a group leaves another).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scim2_models import (
    Email,
    Group,
    GroupMember,
    GroupMembership,
    InvalidValueException,
    Meta,
    Name,
    User,
)

from services.intake.people.directory import Address
from services.intake.people.finder import Profile
from services.intake.people.organisations import Organisation, domain_of
from services.intake.people.people import is_time_zone
from services.intake.tickets.form import spoken

BASE = "/scim/v2"


@dataclass(frozen=True)
class PersonRecord:
    """What a SCIM User says of a person, as the directory takes it."""

    details: dict[str, str | None]
    emails: list[Address]
    active: bool


def user_of(profile: Profile, organisation: Organisation | None) -> User[Any]:
    emails = [a["address"] for a in profile.addresses if a["channel"] == "email"]
    first = emails[0] if emails else (profile.addresses[0]["address"] if profile.addresses else profile.requester_id)
    return User(
        id=profile.requester_id,
        user_name=first,
        name=_name(profile.name) if profile.name else None,
        display_name=profile.name,
        emails=[Email(value=address, primary=n == 0) for n, address in enumerate(emails)] or None,
        preferred_language=profile.language,
        timezone=profile.time_zone,
        active=profile.active,
        groups=[GroupMembership(value=str(organisation.id), display=organisation.name)] if organisation else None,
        meta=Meta(resource_type="User", location=f"{BASE}/Users/{profile.requester_id}"),
    )


def _name(name: str) -> Name:
    """The desk keeps one name; split at its first space for the parts an identity provider may patch."""
    given, _, family = name.partition(" ")
    return Name(formatted=name, given_name=given, family_name=family or None)


def stale_name_dropped(before: User[Any], after: User[Any]) -> None:
    """After a patch of `name.givenName` or `name.familyName` alone, the name is the parts: the formatted
    one still reads as before the patch."""
    was, now = before.name, after.name
    if was is None or now is None or now.formatted != was.formatted:
        return
    if (now.given_name, now.family_name) != (was.given_name, was.family_name):
        now.formatted = None


def record_of(user: User[Any]) -> PersonRecord:
    """The person a SCIM User describes: InvalidValueException naming what the desk cannot take."""
    user_name = (user.user_name or "").strip()
    if domain_of(user_name) is None:
        raise InvalidValueException(
            detail=f"userName {user_name!r} is not an e-mail address: people are known by theirs"
        )
    addresses = [user_name, *(str(e.value).strip() for e in user.emails or [] if e.value)]
    unique = {address.lower(): address for address in reversed(addresses)}  # the first spelling of each
    emails = [Address("email", unique[address.lower()]) for address in dict.fromkeys(a.lower() for a in addresses)]
    if any(domain_of(address.address) is None for address in emails):
        raise InvalidValueException(detail="an entry of emails is not an e-mail address")
    name = user.display_name
    if user.name is not None:
        parts = " ".join(p for p in (user.name.given_name, user.name.family_name) if p)
        name = user.name.formatted or parts or name
    tag = user.preferred_language or user.locale
    language = spoken(tag)
    if tag and language is None:
        raise InvalidValueException(detail=f"preferredLanguage {tag!r} names no language")
    zone = user.timezone or None
    if zone is not None and not is_time_zone(zone):
        raise InvalidValueException(detail=f"timezone {zone!r} is not an IANA time zone")
    details: dict[str, str | None] = {"name": name[:200] if name else None, "language": language, "time_zone": zone}
    return PersonRecord(details, emails, user.active is not False)


def group_of(organisation: Organisation, members: list[Profile]) -> Group:
    return Group(
        id=str(organisation.id),
        display_name=organisation.name,
        members=[GroupMember(value=m.requester_id, display=m.name, type="User") for m in members] or None,
        meta=Meta(resource_type="Group", location=f"{BASE}/Groups/{organisation.id}"),
    )


def member_ids(group: Group) -> list[str]:
    return [str(member.value) for member in group.members or [] if member.value]


def dumped(resource: Any, context: Any) -> dict[str, Any]:
    """A resource as the response of `context` says it is returned."""
    body: dict[str, Any] = resource.model_dump(scim_ctx=context)
    return body
