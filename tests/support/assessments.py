"""The worked example of docs/assessment.md, as the API takes it."""

from __future__ import annotations

from typing import Any

from aftercare_reporting.domain.gbt27922 import CATALOGUE

NOT_APPLICABLE = ("B10", "B11", "B22", "B23", "B24")
SHARES = {"C4": [90, 100], "C7": [60, 60], "A4": [30, 50], "B14": [100, 100]}


def worked_example(deductions: int = 1) -> dict[str, Any]:
    items: dict[str, Any] = {}
    for indicator in CATALOGUE:
        if indicator.code in NOT_APPLICABLE:
            items[indicator.code] = {"applicable": False, "note": "not part of the service"}
        else:
            items[indicator.code] = {"shares": SHARES.get(indicator.code, [80, 80])}
    return {
        "title": "2026 annual self-assessment",
        "assessed_on": "2027-01-15",
        "assessors": ["Quality office", "Service director"],
        "items": items,
        "deductions": [f"repair records not kept ({n + 1})" for n in range(deductions)],
        "bonus": 0.5,
        "bonus_reason": "drafted a national standard",
    }
