"""The watcher's and the notifier's maps name only what the ticket's contract publishes,
and the check that guards them at start-up would catch a renamed event, state or field."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftercare_notifier.adapters import ticket_contract as notifier_contract
from aftercare_sla.adapters import ticket_contract as sla_contract
from aftercare_sla.domain import facts
from aftercare_sla.domain.policy import PolicyError
from aftercare_ticket.contract import (
    CLOUDEVENT_TYPE_PREFIX,
    ENDED_STATES,
    EVENT_FIELDS,
    STATES,
    WAITING_STATES,
    ce_type,
    event_name,
    unknown_names,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_services_maps_match_the_contract() -> None:
    assert sla_contract.contract_problems() == []
    assert notifier_contract.contract_problems() == []


def test_a_renamed_event_or_field_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses = {**facts.PAUSES, "InfoRequested": ("x", True)}
    monkeypatch.setattr(sla_contract, "PAUSES", pauses)
    monkeypatch.setattr(sla_contract, "FACTS", {"Diagnosed": ("complexity", "severity")})
    problems = sla_contract.contract_problems()
    assert "SLA pauses: no ticket event 'InfoRequested'" in problems
    assert "SLA pauses: 'x' is not a waiting state" in problems
    assert "SLA facts: Diagnosed publishes no field 'severity'" in problems
    with pytest.raises(sla_contract.ContractMismatch):
        sla_contract.check_ticket_contract()


def test_states_and_types_come_from_the_domain() -> None:
    assert ENDED_STATES <= STATES
    assert WAITING_STATES <= STATES
    assert "new" not in STATES
    assert unknown_names("x", states=["resolvd"]) == ["x: no ticket state 'resolvd'"]
    assert ce_type("Acknowledged", 1) == f"{CLOUDEVENT_TYPE_PREFIX}Acknowledged.v1"
    assert event_name(ce_type("Acknowledged", 1)) == "Acknowledged"
    assert event_name("com.aftercare.sla.SlaBreached.v1") is None


def test_personal_data_is_not_a_published_field() -> None:
    assert "contact" not in EVENT_FIELDS["RequestRaised"]
    assert "customer_ref" in EVENT_FIELDS["RequestRaised"]


def test_routine_updates_go_out_before_the_watcher_warns() -> None:
    """T-PROGRESS: the notifier's lead is the contract's, and the policy warns later."""
    from datetime import timedelta

    from aftercare_notifier.domain.cadence import DEFAULT_LEAD
    from aftercare_sla.adapters.policy_file import parse_policy, progress_problems
    from aftercare_ticket.contract import PROGRESS_UPDATE_LEAD

    assert DEFAULT_LEAD == PROGRESS_UPDATE_LEAD
    text = (ROOT / "deploy" / "sla-policy.yaml").read_text(encoding="utf-8")
    policy = parse_policy(text, "policy", {})
    assert progress_problems(policy) == []
    for target in policy.resolved():
        if target.rule == "T-PROGRESS":
            assert target.budget * (1 - target.warn_at) < timedelta(minutes=5)
    early = text.replace("    warn_at: 0.95\n", "    warn_at: 0.8\n")
    with pytest.raises(PolicyError) as caught:
        parse_policy(early, "policy", {})
    assert any("T-PROGRESS" in problem for problem in caught.value.problems)
