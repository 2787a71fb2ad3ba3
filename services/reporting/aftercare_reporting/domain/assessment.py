"""Scoring a self-assessment against the catalogue (S §6): each indicator earns its points
× the share the assessors gave it (the mean of their shares, 6.1.4, read on annex C's
maturity bands); indicators that do not apply are scaled out (score = achieved ÷
applicable points × 100, 6.1.5); each special deduction takes 1 point after scaling
and five or more fail outright; a special bonus adds at most 1; the level follows 6.3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aftercare_reporting.domain.gbt27922 import CATALOGUE, INDICATORS, band_of

MAX_BONUS = 1.0
FAILING_DEDUCTIONS = 5
LEVELS: tuple[tuple[float, str, str], ...] = (
    (95, "五星级", "five-star"),
    (90, "四星级", "four-star"),
    (80, "三星级", "three-star"),
    (70, "达标级", "qualified"),
)
FAIL = ("不合格", "fail")


@dataclass(frozen=True)
class Rating:
    code: str
    shares: tuple[float, ...] = ()
    """Each assessor's share of the indicator's points, 0–100 (annex C)."""
    applicable: bool = True
    note: str = ""


@dataclass(frozen=True)
class Assessment:
    ratings: Mapping[str, Rating]
    deductions: tuple[str, ...] = ()
    """The reasons of the special deductions (D1), one point each."""
    bonus: float = 0.0
    """The special bonus (D2), at most one point."""


@dataclass(frozen=True)
class ItemScore:
    code: str
    points: float
    share: float | None
    earned: float
    band: str | None


@dataclass(frozen=True)
class Score:
    achieved: float
    applicable_points: float
    scaled: float
    deductions: int
    bonus: float
    total: float
    level: str
    level_en: str
    parts: dict[str, tuple[float, float]]
    """Per part (service, management): points achieved and applicable."""
    items: list[ItemScore] = field(default_factory=list)


def problems(assessment: Assessment) -> list[tuple[str, str]]:
    """Every reason the assessment cannot be scored, as (field, message)."""
    found: list[tuple[str, str]] = []
    for code in sorted(set(assessment.ratings) - set(INDICATORS)):
        found.append((f"items.{code}", f"{code} is not an indicator of the catalogue"))
    for indicator in CATALOGUE:
        rating = assessment.ratings.get(indicator.code)
        where = f"items.{indicator.code}"
        if rating is None:
            found.append((where, f"{indicator.code} is neither rated nor marked not applicable"))
        elif rating.applicable and not rating.shares:
            found.append((where, f"{indicator.code} applies but no assessor rated it"))
        elif any(not 0 <= share <= 100 for share in rating.shares):
            found.append((where, "each share lies between 0 and 100 %"))
    if not 0 <= assessment.bonus <= MAX_BONUS:
        found.append(("bonus", "the special bonus is between 0 and 1 point"))
    if all(not r.applicable for r in assessment.ratings.values()) and assessment.ratings:
        found.append(("items", "at least one indicator must apply"))
    return found


def level_of(total: float, deductions: int) -> tuple[str, str]:
    if deductions >= FAILING_DEDUCTIONS:
        return FAIL
    for floor, level, english in LEVELS:
        if total >= floor:
            return level, english
    return FAIL


def score(assessment: Assessment) -> Score:
    """The assessment's score; call ``problems`` first (a missing rating counts as 0)."""
    items: list[ItemScore] = []
    parts: dict[str, list[float]] = {"service": [0.0, 0.0], "management": [0.0, 0.0]}
    for indicator in CATALOGUE:
        rating = assessment.ratings.get(indicator.code, Rating(indicator.code))
        if not rating.applicable:
            items.append(ItemScore(indicator.code, indicator.points, None, 0.0, None))
            continue
        share = _mean(rating.shares)
        earned = indicator.points * share / 100
        items.append(ItemScore(indicator.code, indicator.points, share, earned, band_of(share)))
        parts[indicator.part][0] += earned
        parts[indicator.part][1] += indicator.points
    achieved = sum(p[0] for p in parts.values())
    applicable = sum(p[1] for p in parts.values())
    scaled = achieved / applicable * 100 if applicable else 0.0
    deductions = len(assessment.deductions)
    total = round(scaled - deductions + assessment.bonus, 2)
    level, english = level_of(total, deductions)
    return Score(
        achieved=round(achieved, 4),
        applicable_points=applicable,
        scaled=round(scaled, 2),
        deductions=deductions,
        bonus=assessment.bonus,
        total=total,
        level=level,
        level_en=english,
        parts={name: (round(a, 4), p) for name, (a, p) in parts.items()},
        items=items,
    )


def _mean(shares: Sequence[float]) -> float:
    return sum(shares) / len(shares) if shares else 0.0
