"""What callers ask for: one model per command, also the body of its HTTP endpoint."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from aftercare.instants import Instant
from aftercare_ticket.domain.values import (
    MAX_ITEMS,
    Attachment,
    FeeQuote,
    Product,
    Refund,
    RepairReport,
    Replacement,
    ReturnDetails,
    Satisfaction,
    ShortText,
    Text,
    Verification,
)
from aftercare_ticket.domain.vocabulary import (
    BusinessRule,
    Channel,
    ComplaintGrade,
    Complexity,
    DiagnosisMethod,
    EscalationLevel,
    FaultCause,
    Kind,
    Language,
    Priority,
    ReturnMethod,
)

MAX_VERSION = 2**53 - 1
"""Versions are stored as 64-bit integers; JSON readers are exact up to 2^53."""


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str]
    expected_version: int | None = Field(
        default=None,
        ge=0,
        le=MAX_VERSION,
        description="Refuse with 409 unless the ticket is at this version",
    )
    occurred_at: Instant | None = Field(
        default=None,
        description="When it happened, if earlier than now (B-TIME-ORDER: never before "
        "the request, never in the future)",
    )


class Customer(BaseModel):
    """K-3 customer identity and contact; ``id`` becomes the ticket's ``customer_ref``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: ShortText
    name: ShortText
    email: EmailStr | None = None
    phone: ShortText | None = None
    language: Language = Language.ZH_CN


class RaiseRequest(BaseModel):
    """Body of ``POST /tickets``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: ClassVar[str] = "raise"

    kind: Kind
    channel: Channel
    priority: Priority | None = Field(
        default=None, description="normal when unset; emergencies are always urgent (F-8)"
    )
    urgent: bool = False
    customer: Customer
    product: Product = Field(default_factory=Product)
    subject: ShortText
    description: Text
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ITEMS)
    return_details: ReturnDetails | None = Field(
        default=None, description="required for returns and exchanges"
    )
    region: ShortText | None = None
    requested_at: Instant | None = Field(
        default=None, description="When the customer made contact; defaults to now"
    )


class Acknowledge(Command):
    name = "acknowledge"
    plan: Text
    expected_resolution_at: Instant
    risks: Text | None = None
    urgent: bool = False
    priority: Priority | None = None
    complaint_grade: ComplaintGrade | None = Field(
        default=None, description="required for complaints (B-COMPLAINT-GRADE)"
    )


class Diagnose(Command):
    name = "diagnose"
    findings: Text
    method: DiagnosisMethod
    complexity: Complexity = Complexity.GENERAL
    fault_cause: FaultCause | None = Field(default=None, description="required for repairs")
    fee_quote: FeeQuote | None = Field(
        default=None, description="required when the warranty does not cover the fault"
    )
    on_site_arrived_at: Instant | None = None


class ProvideWorkaround(Command):
    name = "provide_workaround"
    description: Text


class Resolve(Command):
    name = "resolve"
    solution: Text
    verification: Verification
    repair_report: RepairReport | None = None
    replacement: Replacement | None = None
    refund: Refund | None = None


class Revisit(Command):
    name = "revisit"
    satisfaction: Satisfaction
    satisfied: bool | None = Field(
        default=None, description="defaults to satisfaction of 4 or more"
    )
    comments: Text | None = None


class Reopen(Command):
    name = "reopen"
    reason: Text


class Close(Command):
    name = "close"
    reason: Text = "resolved"


class Withdraw(Command):
    name = "withdraw"
    reason: Text


class Decline(Command):
    name = "decline"
    rule: BusinessRule
    explanation: Text


class RequestInfo(Command):
    name = "request_info"
    requested: Text


class ProvideInfo(Command):
    name = "provide_info"
    information: Text
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ITEMS)


class AwaitParts(Command):
    name = "await_parts"
    parts: list[ShortText] = Field(min_length=1, max_length=MAX_ITEMS)
    expected_at: Instant | None = None


class PartsArrived(Command):
    name = "parts_arrived"
    note: Text | None = None


class Escalate(Command):
    name = "escalate"
    level: EscalationLevel
    reason: Text
    priority: Priority | None = None


class Assign(Command):
    name = "assign"
    assignee: ShortText
    team: ShortText | None = None


class ReportProgress(Command):
    name = "report_progress"
    message: Text
    channel: ShortText = "email"
    report_key: ShortText | None = Field(
        default=None, description="a repeat with the same key records nothing"
    )


class ScheduleVisit(Command):
    name = "schedule_visit"
    appointment_at: Instant
    engineer: ShortText
    site: Text | None = None


class ReceiveProduct(Command):
    name = "receive_product"
    tracking_ref: ShortText | None = None
    condition: Text | None = Field(default=None, description="what the product looked like")


class ApproveRefund(Command):
    name = "approve_refund"
    refund: Refund
    note: Text | None = None


class GiveReturnInstructions(Command):
    name = "give_return_instructions"
    address: Text = Field(description="where the product goes (the service centre)")
    carrier: ShortText | None = None
    instructions: Text | None = None


class AnswerQuote(Command):
    name = "answer_quote"
    accepted: bool
    note: Text | None = None


class ReturnProduct(Command):
    name = "return_product"
    method: ReturnMethod
    tracking_ref: ShortText | None = None
    repair_report: RepairReport | None = None


class RevisePlan(Command):
    name = "revise_plan"
    plan: Text
    expected_resolution_at: Instant
    risks: Text | None = None
    complaint_grade: ComplaintGrade | None = None


TICKET_COMMANDS: dict[str, type[Command]] = {
    cls.name: cls
    for cls in (
        Acknowledge,
        Diagnose,
        ProvideWorkaround,
        Resolve,
        Revisit,
        Reopen,
        Close,
        Withdraw,
        Decline,
        RequestInfo,
        ProvideInfo,
        AwaitParts,
        PartsArrived,
        Escalate,
        Assign,
        ReportProgress,
        ScheduleVisit,
        ReceiveProduct,
        ApproveRefund,
        GiveReturnInstructions,
        AnswerQuote,
        ReturnProduct,
        RevisePlan,
    )
}
