"""The business rules (B-*) and flow rules (F-*) that decide beyond the state table."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain import events as ev
from aftercare_ticket.domain.decide import decide, raise_request
from aftercare_ticket.domain.errors import Refusal
from aftercare_ticket.domain.personal import without_personal_data
from aftercare_ticket.domain.values import ReturnDetails
from aftercare_ticket.domain.vocabulary import Kind, Priority, State
from aftercare_ticket.examples import T0, context, raise_body, raised, run, sample


def refused_rule(call: Any) -> Refusal:
    with pytest.raises(Refusal) as refusal:
        call()
    return refusal.value


def no_reason_return(**product: Any) -> cmd.RaiseRequest:
    base = {"order_ref": "SO-1", "received_date": date(2026, 2, 27), "model": "W200"}
    return raise_body(
        Kind.RETURN,
        product={**base, **product},
        return_details={"reason": "no_reason", "unused": True, "packaging_intact": True},
    )


class TestIntake:
    def test_emergency_is_urgent_whatever_priority_was_asked(self) -> None:  # F-8
        event = raise_request("t", raise_body(Kind.EMERGENCY, priority="low"), context(T0))
        assert (event.priority, event.urgent) == (Priority.URGENT, True)

    def test_requested_at_defaults_to_now_and_never_lies_ahead(self) -> None:
        body = raise_body(requested_at=None)
        assert raise_request("t", body, context(T0)).requested_at == T0
        future = raise_body(requested_at=T0 + timedelta(minutes=1))
        assert refused_rule(lambda: raise_request("t", future, context(T0))).rule == (
            "B-TIME-ORDER"
        )

    def test_no_reason_return_inside_the_window_is_accepted(self) -> None:  # B-RETURN-WINDOW
        event = raise_request("t", no_reason_return(), context(T0))
        assert event.return_details is not None

    def test_no_reason_return_after_the_window_names_the_rule(self) -> None:
        late = no_reason_return(received_date=date(2026, 2, 20))  # 10 days before
        refusal = refused_rule(lambda: raise_request("t", late, context(T0)))
        assert (refusal.rule, refusal.field) == ("B-RETURN-WINDOW", "product.received_date")
        assert raise_request("t", late, context(T0, return_window_days=10))

    def test_used_product_cannot_go_back_without_reason(self) -> None:
        body = no_reason_return().model_copy(
            update={"return_details": ReturnDetails(reason="no_reason", unused=False)}
        )
        assert refused_rule(lambda: raise_request("t", body, context(T0))).rule == (
            "B-RETURN-WINDOW"
        )

    def test_custom_made_only_for_quality_fault(self) -> None:  # B-RETURN-CUSTOM
        body = no_reason_return(custom_made=True)
        assert refused_rule(lambda: raise_request("t", body, context(T0))).rule == (
            "B-RETURN-CUSTOM"
        )
        quality = raise_body(
            Kind.RETURN,
            product={"order_ref": "SO-1", "custom_made": True, "received_date": date(2026, 2, 27)},
        )
        assert raise_request("t", quality, context(T0)).return_details is not None

    def test_return_needs_proof_of_purchase_and_reason(self) -> None:  # B-RETURN-DOCS
        no_proof = raise_body(Kind.EXCHANGE, product={"model": "W200"})
        assert refused_rule(lambda: raise_request("t", no_proof, context(T0))).rule == (
            "B-RETURN-DOCS"
        )
        with_receipt = raise_body(
            Kind.EXCHANGE,
            product={"model": "W200", "purchase_date": date(2026, 2, 20)},
            attachments=[
                {
                    "name": "invoice.pdf",
                    "url": "https://files.example/i.pdf",
                    "kind": "proof_of_purchase",
                }
            ],
        )
        assert raise_request("t", with_receipt, context(T0))
        no_reason = raise_body(Kind.RETURN, return_details=None)
        refusal = refused_rule(lambda: raise_request("t", no_reason, context(T0)))
        assert (refusal.rule, refusal.field) == ("B-RETURN-DOCS", "return_details")

    def test_received_before_purchase_is_refused(self) -> None:  # B-TIME-ORDER
        body = raise_body(
            product={"purchase_date": date(2026, 3, 1), "received_date": date(2026, 2, 1)}
        )
        assert refused_rule(lambda: raise_request("t", body, context(T0))).rule == ("B-TIME-ORDER")

    def test_blank_required_text_is_invalid(self) -> None:  # B-TIME-ORDER completeness
        with pytest.raises(ValidationError):
            raise_body(subject="   ")


class TestFlow:
    def test_acknowledge_marks_urgent_and_needs_plan_and_time(self) -> None:  # F-1, F-2
        ticket = run(
            raised(),
            cmd.Acknowledge(
                plan="Remote check", urgent=True, expected_resolution_at=T0 + timedelta(hours=4)
            ),
        )
        assert (ticket.priority, ticket.urgent, ticket.plan) == (
            Priority.URGENT,
            True,
            "Remote check",
        )
        with pytest.raises(ValidationError):
            cmd.Acknowledge.model_validate({"plan": "x"})
        past = cmd.Acknowledge(plan="x", expected_resolution_at=T0)
        assert refused_rule(lambda: decide(raised(), past, context())).field == (
            "expected_resolution_at"
        )

    def test_complaint_is_graded_and_serious_ones_escalate(self) -> None:  # B-COMPLAINT-GRADE
        complaint = raised(Kind.COMPLAINT)
        ungraded = cmd.Acknowledge(plan="Call back", expected_resolution_at=T0 + timedelta(1))
        assert refused_rule(lambda: decide(complaint, ungraded, context())).rule == (
            "B-COMPLAINT-GRADE"
        )
        serious = cmd.Acknowledge.model_validate(
            {**ungraded.model_dump(), "complaint_grade": "serious"}
        )
        events = decide(complaint, serious, context())
        assert [type(e) for e in events] == [ev.Acknowledged, ev.Escalated]
        assert events[1].priority is Priority.HIGH  # type: ignore[attr-defined]

    def test_resolution_requires_passed_verification(self) -> None:  # F-5
        ticket = run(raised(), sample("acknowledge"), sample("diagnose"))
        failed = cmd.Resolve(
            solution="Patched",
            verification={"method": "Yield test", "result": "still 70%", "passed": False},
        )
        refusal = refused_rule(lambda: decide(ticket, failed, context()))
        assert (refusal.rule, refusal.field) == ("F-5", "verification.passed")

    @pytest.mark.parametrize(
        ("satisfaction", "state", "reopens"),
        [(5, State.CLOSED, 0), (4, State.CLOSED, 0), (2, State.ACKNOWLEDGED, 1)],
    )
    def test_revisit_closes_or_reopens(
        self, satisfaction: int, state: State, reopens: int
    ) -> None:  # F-6, F-7
        ticket = run(raised(), sample("acknowledge"), sample("diagnose"), sample("resolve"))
        after = run(ticket, cmd.Revisit(satisfaction=satisfaction))
        assert (after.state, after.reopen_count, after.satisfaction) == (
            state,
            reopens,
            satisfaction,
        )

    @pytest.mark.parametrize("score", [0, 6, 2.5, "5", True, None])
    def test_satisfaction_is_a_five_point_score(self, score: Any) -> None:  # B-SATISFACTION
        with pytest.raises(ValidationError) as invalid:
            cmd.Revisit.model_validate({"satisfaction": score})
        assert invalid.value.errors()[0]["ctx"]["rule"] == "B-SATISFACTION"

    def test_waiting_returns_to_the_state_it_left(self) -> None:
        diagnosed = run(raised(), sample("acknowledge"), sample("diagnose"))
        waiting = run(diagnosed, sample("request_info"))
        assert (waiting.state, waiting.waiting_since) == (State.WAITING_ON_CUSTOMER, context().now)
        back = run(waiting, sample("provide_info"))
        assert (back.state, back.waiting_since) == (State.DIAGNOSED, None)

    def test_response_cannot_precede_the_request(self) -> None:  # B-TIME-ORDER
        early = cmd.Acknowledge(
            plan="x",
            occurred_at=T0 - timedelta(minutes=1),
            expected_resolution_at=T0 + timedelta(hours=1),
        )
        refusal = refused_rule(lambda: decide(raised(), early, context()))
        assert (refusal.rule, refusal.field) == ("B-TIME-ORDER", "occurred_at")
        backdated = early.model_copy(update={"occurred_at": T0 + timedelta(minutes=2)})
        assert run(raised(), backdated).state is State.ACKNOWLEDGED

    def test_progress_report_with_the_same_key_is_recorded_once(self) -> None:
        ticket = run(raised(), sample("acknowledge"))
        report = cmd.ReportProgress(message="Analysing", report_key="n-1")
        once = run(ticket, report)
        assert decide(once, report, context()) == []
        assert once.version == ticket.version + 1


class TestWarranty:
    def diagnose(self, cause: str, fee: bool = False) -> cmd.Diagnose:
        quote = {"fee": {"amount": "300.00"}, "process": "Paid repair at the depot"}
        return cmd.Diagnose(
            findings="Cracked die",
            method="on_site",
            fault_cause=cause,
            fee_quote=quote if fee else None,
        )

    def test_quality_fault_in_period_is_covered(self) -> None:  # B-WARRANTY-PERIOD
        ticket = run(raised(Kind.REPAIR), sample("acknowledge"), self.diagnose("quality"))
        assert ticket.diagnosis is not None
        assert (ticket.diagnosis.covered, ticket.diagnosis.fee_quote) == (True, None)

    def test_misuse_needs_a_fee_quote(self) -> None:  # B-WARRANTY-SCOPE
        ticket = run(raised(Kind.REPAIR), sample("acknowledge"))
        refusal = refused_rule(lambda: decide(ticket, self.diagnose("misuse"), context()))
        assert (refusal.rule, refusal.field) == ("B-WARRANTY-SCOPE", "fee_quote")
        paid = run(ticket, self.diagnose("misuse", fee=True))
        assert paid.diagnosis is not None
        assert paid.diagnosis.covered is False

    def test_expired_warranty_names_the_period_rule(self) -> None:
        old = raised(Kind.REPAIR, product={"model": "W200", "purchase_date": date(2024, 1, 5)})
        ticket = run(old, sample("acknowledge"))
        refusal = refused_rule(lambda: decide(ticket, self.diagnose("quality"), context()))
        assert refusal.rule == "B-WARRANTY-PERIOD"
        longer = context(warranty_months_by_model={"W200": 36})
        assert decide(ticket, self.diagnose("quality"), longer)


class TestSettlement:
    def resolved_with(self, kind: Kind, **extra: Any) -> cmd.Resolve:
        return cmd.Resolve.model_validate(
            {
                "solution": "Done",
                "verification": {"method": "check", "result": "ok", "passed": True},
                **extra,
            }
        )

    def diagnosed(self, kind: Kind) -> Any:
        """Where the kind's path resolves: a product received, a refund approved."""
        steps = {Kind.REFUND: ["approve_refund"], Kind.EXCHANGE: ["receive_product"]}
        names = ["acknowledge", *steps.get(kind, ["diagnose"])]
        return run(raised(kind), *(sample(name, kind) for name in names))

    def test_exchange_for_the_same_model(self) -> None:  # B-EXCHANGE-SAME
        ticket = self.diagnosed(Kind.EXCHANGE)
        other = self.resolved_with(Kind.EXCHANGE, replacement={"model": "W300"})
        assert refused_rule(lambda: decide(ticket, other, context())).rule == ("B-EXCHANGE-SAME")
        same = self.resolved_with(Kind.EXCHANGE, replacement={"model": "W200"})
        consented = self.resolved_with(
            Kind.EXCHANGE,
            replacement={
                "model": "W300",
                "customer_consent": True,
                "substitution_reason": "W200 retired",
            },
        )
        assert decide(ticket, same, context())
        assert decide(ticket, consented, context())

    def test_refund_states_amount_by_original_method(self) -> None:  # B-REFUND-AMOUNT
        ticket = self.diagnosed(Kind.REFUND)
        assert (
            refused_rule(lambda: decide(ticket, self.resolved_with(Kind.REFUND), context())).rule
            == "B-REFUND-AMOUNT"
        )
        refund = {"purchase_price": {"amount": "1200.00"}, "shipping": {"amount": "30.00"}}
        event = decide(ticket, self.resolved_with(Kind.REFUND, refund=refund), context())[0]
        assert isinstance(event, ev.Resolved)
        assert event.refund is not None
        assert str(event.refund.total) == "1230.00"
        with pytest.raises(ValidationError):
            self.resolved_with(Kind.REFUND, refund={**refund, "method": "cash"})

    def test_repair_resolution_carries_a_report(self) -> None:  # T-REPAIR-NOTIFY
        ticket = run(raised(Kind.REPAIR), sample("acknowledge"), sample("diagnose", Kind.REPAIR))
        assert (
            refused_rule(lambda: decide(ticket, self.resolved_with(Kind.REPAIR), context())).field
            == "repair_report"
        )

    def test_dispute_goes_through_mediation_first(self) -> None:  # B-DISPUTE
        ticket = run(raised(Kind.COMPLAINT), sample("acknowledge", Kind.COMPLAINT))
        arbitration = cmd.Escalate(level="arbitration", reason="No agreement")
        assert refused_rule(lambda: decide(ticket, arbitration, context())).rule == "B-DISPUTE"
        mediated = run(ticket, cmd.Escalate(level="mediation", reason="No agreement"))
        assert run(mediated, arbitration).escalation_level == "arbitration"


def test_personal_data_is_declared_in_the_schema_and_stripped() -> None:  # P-PII
    event = raise_request("t", raise_body(), context(T0))
    public = without_personal_data("RequestRaised", ev.encode(event))
    assert "contact" not in public
    assert public["customer_ref"] == "C-1"
    assert "王伟" not in str(public)
    assert "wang@example.com" not in str(public)
