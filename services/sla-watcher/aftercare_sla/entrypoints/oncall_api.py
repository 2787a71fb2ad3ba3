"""``GET /oncall/now``: whom a paging group's chain reaches at an instant (now, past or
future), level by level, from the policy's schedules and overrides. Staff contact
details go only to the roles that page or manage people."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import FastAPI, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from aftercare.auth import Principal, PrincipalDep
from aftercare.clock import Clock
from aftercare.instants import Instant
from aftercare.problems import Problem
from aftercare_sla.adapters.override_store import SqlOverrideStore, StoredOverride
from aftercare_sla.domain.durations import format_duration
from aftercare_sla.domain.escalation import OnCallPolicy, Recipient
from aftercare_sla.domain.oncall import Override, Schedule

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


class OverrideEntry(BaseModel):
    """Someone covers a schedule for a range (holiday cover), over the rotations."""

    model_config = ConfigDict(extra="forbid")

    person: str = Field(min_length=1, max_length=64)
    start: AwareDatetime
    end: AwareDatetime
    reason: str = Field(default="", max_length=200)


class OverrideView(OverrideEntry):
    override_id: str
    schedule: str
    created_by: str
    created_at: datetime


def _override_view(stored: StoredOverride) -> OverrideView:
    o = stored.override
    return OverrideView(
        override_id=stored.override_id, schedule=stored.schedule, person=o.person,
        start=o.start, end=o.end, reason=o.reason, created_by=stored.created_by,
        created_at=stored.created_at,
    )  # fmt: skip


def add_oncall_routes(
    app: FastAPI, oncall: OnCallPolicy, clock: Clock, overrides: SqlOverrideStore | None = None
) -> None:
    async def schedules() -> Mapping[str, Schedule]:
        if overrides is None:
            return oncall.schedules
        return await overrides.schedules(oncall.schedules)

    if overrides is not None:
        _add_override_routes(app, oncall, clock, overrides)

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
        current = await schedules()
        levels = [
            LevelNow(
                level=number + 1,
                wait=format_duration(level.wait),
                recipients=[_answer(r, instant, principal, current) for r in level.notify],
            )
            for number, level in enumerate(policy.levels)
        ]
        return OnCallNow(group=group, at=instant, repeat=policy.repeat, levels=levels)

    def _answer(
        recipient: Recipient,
        at: datetime,
        principal: Principal,
        current: Mapping[str, Schedule],
    ) -> RecipientNow:
        if recipient.channels:
            return RecipientNow(kind="channels")
        if recipient.person is not None:
            return RecipientNow(kind="person", person=_person(recipient.person, principal))
        assert recipient.schedule is not None
        on_call = current[recipient.schedule].on_call(at)
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


MANAGING_ROLES = frozenset({"admin", "supervisor"})
"""Who enters and removes overrides."""
MAX_COVER = timedelta(days=92)


def _add_override_routes(
    app: FastAPI, oncall: OnCallPolicy, clock: Clock, overrides: SqlOverrideStore
) -> None:
    def _schedule(name: str) -> None:
        if name not in oncall.schedules:
            known = ", ".join(sorted(oncall.schedules)) or "none"
            raise Problem(404, "schedule-not-found", "No such schedule", f"known: {known}")

    def _managing(principal: Principal) -> str:
        if principal.role not in MANAGING_ROLES:
            raise Problem(403, "forbidden", "This role cannot change schedules", principal.role)
        return principal.key_name

    @app.get(
        "/oncall/schedules/{name}/overrides",
        response_model=list[OverrideView],
        tags=["oncall"],
    )
    async def list_overrides(
        name: Annotated[str, Path(max_length=64)], _: PrincipalDep
    ) -> list[OverrideView]:
        """The overrides entered over the API (the policy file's are in the file)."""
        _schedule(name)
        return [_override_view(o) for o in await overrides.listed(name)]

    @app.post(
        "/oncall/schedules/{name}/overrides",
        response_model=OverrideView,
        status_code=201,
        tags=["oncall"],
    )
    async def add_override(
        name: Annotated[str, Path(max_length=64)], entry: OverrideEntry, principal: PrincipalDep
    ) -> OverrideView:
        """``person`` covers the schedule from ``start`` to ``end`` (at most 92 days)."""
        by = _managing(principal)
        _schedule(name)
        if entry.person not in oncall.people:
            raise Problem(422, "unknown-person", "Nobody of that id", entry.person, field="person")
        if not timedelta(0) < entry.end - entry.start <= MAX_COVER:
            raise Problem(
                422, "override-range", "An override ends after it starts, within 92 days",
                f"{entry.start.isoformat()} to {entry.end.isoformat()}", field="end",
            )  # fmt: skip
        override = Override(
            person=entry.person, start=entry.start, end=entry.end, reason=entry.reason
        )
        return _override_view(await overrides.add(name, override, by, clock.now()))

    @app.delete("/oncall/overrides/{override_id}", status_code=204, tags=["oncall"])
    async def remove_override(
        override_id: Annotated[str, Path(max_length=32)], principal: PrincipalDep
    ) -> Response:
        _managing(principal)
        if not await overrides.remove(override_id):
            raise Problem(404, "override-not-found", "No such override", override_id)
        return Response(status_code=204)
