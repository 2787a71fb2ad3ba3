"""SLA attainment (M-SLA) and spare-parts timeliness (M-SPARES), counted over the SLA
watcher's verdicts: each clock cycle the watcher judged is one unit, met or breached.
Clocks still running are not judged yet; a warning is not a verdict."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aftercare_reporting.domain.cases import Case, Verdict
from aftercare_reporting.domain.results import Comparison, Result

SPARES_RULE = "T-SPARES"
"""Q §六: emergency orders answered within 24 h, regular parts within 7 working days."""


def _attainment(
    kpi: str,
    cases: Sequence[Case],
    chosen: Callable[[Verdict], bool],
    target: float | None,
) -> Result:
    met = judged = 0
    missed: list[str] = []
    for case in cases:
        verdicts = [v for v in case.verdicts if chosen(v)]
        judged += len(verdicts)
        good = sum(v.met for v in verdicts)
        met += good
        if good < len(verdicts):
            missed.append(case.ticket_id)
    value = 100.0 * met / judged if judged else None
    comparison: Comparison = "reported" if target is None else "at_least"
    return Result(kpi, value, met, judged, target, comparison, "%", tuple(missed))


def _of_rule(rule: str) -> Callable[[Verdict], bool]:
    return lambda verdict: verdict.rule == rule


def attainment(cases: Sequence[Case]) -> list[Result]:
    """M-SLA over every rule, M-SPARES, and one ``M-SLA/<rule>`` per rule judged."""
    rules = sorted({verdict.rule for case in cases for verdict in case.verdicts})
    per_rule = [_attainment(f"M-SLA/{rule}", cases, _of_rule(rule), None) for rule in rules]
    return [
        _attainment("M-SLA", cases, lambda v: True, None),
        _attainment("M-SPARES", cases, lambda v: v.rule == SPARES_RULE, 100.0),
        *per_rule,
    ]
