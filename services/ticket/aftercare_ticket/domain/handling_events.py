"""Events of the steps each kind of case has on its own path (F-11): a refund approved,
the product's way to the service centre and back, a paid repair's consent, a revised
plan."""

from __future__ import annotations

from pydantic import AwareDatetime

from aftercare_ticket.domain.event_base import TicketEvent
from aftercare_ticket.domain.values import Refund, RepairReport, ShortText, Text
from aftercare_ticket.domain.vocabulary import ComplaintGrade, ReturnMethod


class RefundApproved(TicketEvent):
    """W §退款流程: eligibility confirmed, the approved application goes to finance;
    starts T-REFUND (finance refunds within 3 working days of receiving it)."""

    occurred_at: AwareDatetime
    refund: Refund
    note: Text | None = None


class ReturnInstructionsGiven(TicketEvent):
    """W §退换货流程, §保修流程: where to send the product and how (address of the
    service centre, carrier, packing), for returns, exchanges and mail-in repairs."""

    occurred_at: AwareDatetime
    address: Text
    carrier: ShortText | None = None
    instructions: Text | None = None


class QuoteAnswered(TicketEvent):
    """B-PAID-REPAIR-CONSENT: the customer accepts or refuses the quoted paid repair."""

    occurred_at: AwareDatetime
    accepted: bool
    note: Text | None = None


class ProductReturned(TicketEvent):
    """T-REPAIR-NOTIFY: the repaired product shipped back, or the customer told it is
    ready to pick up, with the repair report (W §保修流程)."""

    occurred_at: AwareDatetime
    method: ReturnMethod
    tracking_ref: ShortText | None = None
    repair_report: RepairReport | None = None


class PlanRevised(TicketEvent):
    """F-12 (F-2, F-7): an adjusted plan and expected time (after a reopen, or as the case
    develops); a complaint may be re-graded (B-COMPLAINT-GRADE)."""

    occurred_at: AwareDatetime
    plan: Text
    expected_resolution_at: AwareDatetime
    risks: Text | None = None
    complaint_grade: ComplaintGrade | None = None
