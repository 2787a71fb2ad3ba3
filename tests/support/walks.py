"""What the SLA watcher must find on each kind's walk: the clocks it meets, none missed
and none left running once the case is closed."""

from __future__ import annotations

from pathlib import Path

from aftercare.china_calendar import china_calendar
from aftercare_sla.adapters.policy_file import load_policy
from aftercare_sla.domain.calendar import AroundTheClock, Timekeeping, WorkingDays
from aftercare_sla.domain.facts import Fact
from aftercare_sla.domain.timers import evaluate

ROOT = Path(__file__).resolve().parents[2]
TARGETS = load_policy(ROOT / "deploy" / "sla-policy.yaml", environ={}).resolved()
CLOCKS: dict[str, Timekeeping] = {
    "24x7": AroundTheClock(),
    "working_days": WorkingDays(china_calendar()),
}
MET: dict[str, set[str]] = {
    "support": {"T-PHONE"},
    "emergency": {"T-PHONE", "T-URGENT"},
    "repair on site": {"T-WARRANTY-CONTACT", "T-ONSITE", "T-ONSITE-PUNCTUAL", "T-REPAIR-NOTIFY"},
    "repair by mail, paid": {"T-WARRANTY-CONTACT", "T-REPAIR-NOTIFY"},
    "return": {"T-RETURN-REVIEW", "T-RETURN-REFUND"},
    "exchange": {"T-RETURN-REVIEW", "T-EXCHANGE-SHIP"},
    "refund": {"T-REFUND"},
    "complaint": {"T-COMPLAINT-CONTACT", "T-COMPLAINT-GENERAL", "T-COMPLAINT-REVISIT"},
    "complaint re-graded, disputed after closing": {
        "T-COMPLAINT-CONTACT",
        "T-COMPLAINT-COMPLEX",
        "T-COMPLAINT-REVISIT",
    },
    "spare parts": {"T-SPARES"},
    "training": {"T-PHONE"},
}


def assert_every_clock_met(walk: str, facts: list[Fact]) -> None:
    timers = evaluate(TARGETS, facts, CLOCKS)
    outcomes = {(t.rule, t.cycle): t.outcome for t in timers}
    assert "missed" not in outcomes.values(), outcomes
    assert not {"running", "paused"} & set(outcomes.values()), outcomes
    met = {t.rule for t in timers if t.outcome == "met"}
    assert MET[walk] <= met, (walk, met)
