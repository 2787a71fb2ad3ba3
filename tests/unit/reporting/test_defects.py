"""Faults grouped by product model, lot and cause (Wn, S A12): "no fault found" is not a
fault, older diagnoses fall out of the window, the largest group comes first."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aftercare_reporting.domain.cases import Case
from aftercare_reporting.domain.defects import defect_groups, over_threshold

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def fault(ticket: str, model: str, lot: str, cause: str, days: int = 0) -> Case:
    at = T0 + timedelta(days=days)
    return Case(ticket, model=model, lot=lot, fault_cause=cause, diagnosed_at=at)


def test_faults_grouped_largest_first_within_the_window() -> None:
    cases = [
        fault("a", "W200", "L1", "quality"),
        fault("b", "W200", "L1", "quality", days=1),
        fault("c", "W200", "L2", "quality"),
        fault("d", "W200", "L1", "misuse"),
        fault("e", "W200", "L1", "no_fault_found"),
        fault("f", "W200", "L1", "quality", days=-40),
        Case("g"),  # never diagnosed
    ]
    groups = defect_groups(cases, since=T0 - timedelta(days=30))
    assert [(g.key, g.count) for g in groups] == [
        ("W200/L1/quality", 2),
        ("W200/L1/misuse", 1),
        ("W200/L2/quality", 1),
    ]
    assert groups[0].tickets == ("a", "b")
    assert [g.key for g in over_threshold(groups, 2)] == ["W200/L1/quality"]
    assert len(defect_groups(cases)) == 3  # no window: "f" joins its group
    assert defect_groups(cases)[0].count == 3
