"""Defect feedback to R&D and production (Wn; S A12, B21, B22): faults found while
serving customers, grouped by product model, lot and cause; a group that reaches a
threshold within a window raises a quality alert."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aftercare_reporting.domain.cases import Case


@dataclass(frozen=True)
class DefectGroup:
    model: str
    lot: str
    cause: str
    tickets: tuple[str, ...]
    first_at: datetime
    last_at: datetime

    @property
    def count(self) -> int:
        return len(self.tickets)

    @property
    def key(self) -> str:
        return f"{self.model}/{self.lot}/{self.cause}"


def defect_groups(cases: Sequence[Case], since: datetime | None = None) -> list[DefectGroup]:
    """Faults diagnosed (from ``since``), grouped, the largest group first. A fault is a
    diagnosis that names its cause; "no fault found" is not one."""
    found: dict[tuple[str, str, str], list[Case]] = defaultdict(list)
    for case in cases:
        if case.fault_cause in (None, "no_fault_found") or case.diagnosed_at is None:
            continue
        if since is not None and case.diagnosed_at < since:
            continue
        key = (case.model or "unknown", case.lot or "unknown", str(case.fault_cause))
        found[key].append(case)
    groups = [
        DefectGroup(
            model,
            lot,
            cause,
            tuple(c.ticket_id for c in members),
            min(c.diagnosed_at for c in members if c.diagnosed_at),
            max(c.diagnosed_at for c in members if c.diagnosed_at),
        )
        for (model, lot, cause), members in found.items()
    ]
    return sorted(groups, key=lambda g: (-g.count, g.key))


def over_threshold(groups: Sequence[DefectGroup], threshold: int) -> list[DefectGroup]:
    return [group for group in groups if group.count >= threshold]
