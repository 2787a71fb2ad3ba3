"""On-call overrides entered over the API, kept in ``sla_oncall_overrides`` and laid on
the policy file's schedules whenever someone asks who is on call or a step is paged."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.db import transaction
from aftercare_sla.adapters.tables import sla_oncall_overrides
from aftercare_sla.domain.oncall import Override, Schedule


@dataclass(frozen=True, slots=True)
class StoredOverride:
    override_id: str
    schedule: str
    override: Override
    created_by: str
    created_at: datetime


class SqlOverrideStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(
        self, schedule: str, override: Override, created_by: str, now: datetime
    ) -> StoredOverride:
        stored = StoredOverride(uuid.uuid4().hex, schedule, override, created_by[:100], now)
        row = {
            "override_id": stored.override_id,
            "schedule": schedule,
            "person": override.person,
            "starts_at": override.start,
            "ends_at": override.end,
            "reason": override.reason,
            "created_by": stored.created_by,
            "created_at": now,
        }
        async with transaction(self.engine) as connection:
            await connection.execute(insert(sla_oncall_overrides).values(row))
        return stored

    async def remove(self, override_id: str) -> bool:
        async with transaction(self.engine) as connection:
            result = await connection.execute(
                delete(sla_oncall_overrides).where(
                    sla_oncall_overrides.c.override_id == override_id
                )
            )
        return bool(result.rowcount)

    async def listed(self, schedule: str | None = None) -> list[StoredOverride]:
        query = select(sla_oncall_overrides).order_by(sla_oncall_overrides.c.created_at)
        if schedule is not None:
            query = query.where(sla_oncall_overrides.c.schedule == schedule)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query.limit(5000))).all()
        return [
            StoredOverride(
                row.override_id,
                row.schedule,
                Override(
                    person=row.person, start=row.starts_at, end=row.ends_at, reason=row.reason
                ),
                row.created_by,
                row.created_at,
            )
            for row in rows
        ]

    async def schedules(self, from_file: Mapping[str, Schedule]) -> dict[str, Schedule]:
        """The policy's schedules with the entered overrides laid on them (an override
        entered later wins where two overlap, as in the file)."""
        entered: dict[str, list[Override]] = {}
        for stored in await self.listed():
            entered.setdefault(stored.schedule, []).append(stored.override)
        return {
            name: _with(schedule, entered.get(name, ())) for name, schedule in from_file.items()
        }


def _with(schedule: Schedule, overrides: Sequence[Override]) -> Schedule:
    if not overrides:
        return schedule
    return schedule.model_copy(update={"overrides": (*schedule.overrides, *overrides)})
