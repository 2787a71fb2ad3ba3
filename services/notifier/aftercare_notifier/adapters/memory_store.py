"""The notifier's unit of work in memory, for fast tests of the service layer: the same
shapes as the SQL store (rows read by attribute), with transactions that commit at the
end of the block and leave nothing behind when it raises."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from aftercare_notifier.adapters.outbox import notification_id
from aftercare_notifier.adapters.unit_of_work import NotifierUnitOfWork
from aftercare_notifier.domain.cadence import CaseView

_VIEW_FIELDS = ("phase", "priority", "urgent", "language", "customer_ref")


@dataclass
class _Tables:
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: dict[str, dict[str, Any]] = field(default_factory=dict)


def _due(rows: Collection[dict[str, Any]], column: str, now: datetime) -> list[dict[str, Any]]:
    chosen = [row for row in rows if row[column] is not None and row[column] <= now]
    return sorted(chosen, key=lambda row: row[column])


class MemoryCases:
    def __init__(self, tables: _Tables) -> None:
        self.tables = tables

    async def last_sequence(self, ticket_id: str) -> int | None:
        row = self.tables.cases.get(ticket_id)
        return None if row is None else int(row["last_sequence"])

    async def load_view(self, ticket_id: str) -> CaseView:
        row = self.tables.cases.get(ticket_id)
        if row is None:
            return CaseView(ticket_id)
        return CaseView(
            ticket_id,
            **{name: row[name] for name in _VIEW_FIELDS},
            last_update_at=row["last_update_at"],
            opened_at=row["opened_at"],
        )

    async def save_view(
        self,
        view: CaseView,
        next_due: datetime | None,
        now: datetime,
        *,
        partition: int | None = None,
        sequence: int | None = None,
    ) -> None:
        known = self.tables.cases.get(view.ticket_id)
        if known is None and partition is None:
            return  # as an UPDATE of no row: the sender never creates a case
        row = dict(known or {"last_sequence": 0})
        row.update({name: getattr(view, name) for name in _VIEW_FIELDS})
        row.update(
            ticket_id=view.ticket_id,
            opened_at=view.opened_at,
            last_update_at=view.last_update_at,
            next_due=next_due,
            updated_at=now,
        )
        if sequence is not None:
            row["last_sequence"] = sequence
        if partition is not None:
            row["partition"] = partition
        self.tables.cases[view.ticket_id] = row

    async def due_cases(
        self, now: datetime, partitions: Collection[int] | None, limit: int
    ) -> list[Any]:
        rows = _due(self.tables.cases.values(), "next_due", now)
        chosen = [r for r in rows if partitions is None or r["partition"] in partitions]
        return [SimpleNamespace(**row) for row in chosen[:limit]]

    async def set_next_due(self, ticket_id: str, due: datetime | None, now: datetime) -> None:
        if ticket_id in self.tables.cases:
            self.tables.cases[ticket_id].update(next_due=due, updated_at=now)


class MemoryOutbox:
    def __init__(self, tables: _Tables) -> None:
        self.tables = tables

    async def untried(self, ticket_id: str) -> Any:
        for row in self.tables.notifications.values():
            if row["ticket_id"] == ticket_id and row["status"] == "pending" and not row["attempts"]:
                return SimpleNamespace(**row)
        return None

    async def holds_update_for(self, ticket_id: str) -> bool:
        return any(
            row["ticket_id"] == ticket_id and row["status"] == "pending"
            for row in self.tables.notifications.values()
        )

    async def fold_into(self, notification_id: str, template: str, event: dict[str, Any]) -> None:
        self.tables.notifications[notification_id].update(
            kind="change", template=template, event=event
        )

    async def queue(
        self,
        *,
        id_seed: str,
        trigger_key: str,
        ticket_id: str,
        kind: str,
        template: str,
        event: dict[str, Any],
        send_at: datetime,
        now: datetime,
    ) -> bool:
        row_id = notification_id(id_seed)
        rows = self.tables.notifications
        if row_id in rows or any(r["trigger_key"] == trigger_key for r in rows.values()):
            return False
        rows[row_id] = {
            **dict.fromkeys(("channels", "recipients", "subject", "language", "last_error")),
            **{"sent_at": None, "record_error": None, "record_attempts": 0, "recorded": False},
            "id": row_id,
            "ticket_id": ticket_id,
            "kind": kind,
            "template": template,
            "trigger_key": trigger_key,
            "event": copy.deepcopy(event),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": send_at,
            "created_at": now,
        }
        return True

    async def mark(self, notification_id: str, **values: Any) -> None:
        if notification_id in self.tables.notifications:
            self.tables.notifications[notification_id].update(values)

    async def record_attempts(self, notification_id: str) -> int:
        return int(self.tables.notifications[notification_id]["record_attempts"])

    async def claim_due(self, now: datetime, lease: timedelta, batch: int) -> list[Any]:
        pending = [r for r in self.tables.notifications.values() if r["status"] == "pending"]
        claimed = [SimpleNamespace(**row) for row in _due(pending, "next_attempt_at", now)[:batch]]
        for row in claimed:
            self.tables.notifications[row.id].update(
                next_attempt_at=now + lease, attempts=row.attempts + 1
            )
        return claimed

    async def release(self, ids: list[Any], now: datetime) -> None:
        for row in self.tables.notifications.values():
            if row["id"] in ids and row["status"] == "pending":
                row.update(next_attempt_at=now, attempts=row["attempts"] - 1)

    async def unrecorded(self, now: datetime, batch: int) -> list[Any]:
        rows = [
            SimpleNamespace(**row)
            for row in self.tables.notifications.values()
            if row["status"] == "sent"
            and not row["recorded"]
            and row["record_error"] is None
            and (row["next_attempt_at"] is None or row["next_attempt_at"] <= now)
        ]
        return rows[:batch]


class MemoryNotifierStore:
    """``NotifierStore`` held in memory: one transaction at a time, as on SQLite."""

    def __init__(self) -> None:
        self.tables = _Tables()
        self._writer = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[NotifierUnitOfWork]:
        async with self._writer:
            working = copy.deepcopy(self.tables)
            yield NotifierUnitOfWork(MemoryCases(working), MemoryOutbox(working))
            self.tables = working

    async def seconds_until_due(
        self, now: datetime, partitions: Collection[int] | None
    ) -> float | None:
        due = [
            row["next_due"]
            for row in self.tables.cases.values()
            if row["next_due"] is not None
            and (partitions is None or row["partition"] in partitions)
        ]
        return (min(due) - now).total_seconds() if due else None
