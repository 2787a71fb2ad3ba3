"""``GET /oncall/now``: whom a paging group's chain reaches at an instant (now, past or
future), level by level, from the policy's schedules and overrides. Staff contact
details go only to the roles that page or manage people."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import FastAPI, Query
from pydantic import BaseModel

from aftercare.auth import Principal, PrincipalDep
from aftercare.clock import Clock
from aftercare.instants import Instant
from aftercare.problems import Problem
from aftercare_sla.domain.durations import format_duration
from aftercare_sla.domain.escalation import OnCallPolicy, Recipient

STAFF_CONTACT_ROLES = frozenset({"admin", "engineer", "supervisor"})
"""Who sees a colleague's e-mail, phone and chat ids (a reader sees names only)."""


class Contacts(BaseModel):
    email: str | None
    phone: str | None
    dingtalk: str | None
    feishu: str | None
    wecom: str | None
    slack: str | None


class PersonNow(BaseModel):
    id: str
    name: str
    contacts: Contacts | None
    """Omitted for roles that may not see them."""


class RecipientNow(BaseModel):
    kind: Literal["schedule", "person", "channels"]
    schedule: str | None = None
    person: PersonNow | None = None
    """None for a schedule with nobody on call then, and for channels."""
    source: str | None = None
    """Of a schedule's answer: ``override`` or ``layer N``."""
    since: datetime | None = None
    until: datetime | None = None


class LevelNow(BaseModel):
    level: int
    wait: str
    recipients: list[RecipientNow]


class OnCallNow(BaseModel):
    group: str
    at: datetime
    repeat: int
    levels: list[LevelNow]


def add_oncall_routes(app: FastAPI, oncall: OnCallPolicy, clock: Clock) -> None:
    @app.get(
        "/oncall/now",
        response_model=OnCallNow,
        tags=["oncall"],
        responses={404: {"description": "No escalation policy for this group"}},
    )
    async def on_call_now(
        principal: PrincipalDep,
        group: Annotated[str, Query(min_length=1, max_length=64)],
        at: Annotated[Instant | None, Query(description="the instant asked about")] = None,
    ) -> OnCallNow:
        """Who each level of ``group``'s escalation would page at ``at`` (default now)."""
        policy = oncall.escalation.get(group)
        if policy is None:
            raise Problem(
                404,
                "paging-group-not-found",
                "No escalation policy for this group",
                f"known groups: {', '.join(sorted(oncall.escalation)) or 'none'}",
                group=group,
            )
        instant = at or clock.now()
        levels = [
            LevelNow(
                level=number + 1,
                wait=format_duration(level.wait),
                recipients=[_answer(r, instant, principal) for r in level.notify],
            )
            for number, level in enumerate(policy.levels)
        ]
        return OnCallNow(group=group, at=instant, repeat=policy.repeat, levels=levels)

    def _answer(recipient: Recipient, at: datetime, principal: Principal) -> RecipientNow:
        if recipient.channels:
            return RecipientNow(kind="channels")
        if recipient.person is not None:
            return RecipientNow(kind="person", person=_person(recipient.person, principal))
        assert recipient.schedule is not None
        on_call = oncall.schedules[recipient.schedule].on_call(at)
        if on_call is None:
            return RecipientNow(kind="schedule", schedule=recipient.schedule)
        return RecipientNow(
            kind="schedule",
            schedule=recipient.schedule,
            person=_person(on_call.person, principal),
            source=on_call.source,
            since=on_call.since,
            until=on_call.until,
        )

    def _person(person_id: str, principal: Principal) -> PersonNow:
        person = oncall.people[person_id]
        contacts = None
        if principal.role in STAFF_CONTACT_ROLES:
            contacts = Contacts(**person.model_dump(exclude={"name"}))
        return PersonNow(id=person_id, name=person.name, contacts=contacts)
