"""The words of the standards, as closed sets (K-1, K-2 and the flow's states)."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """K-1: what the customer asks for."""

    SUPPORT = "support"
    REPAIR = "repair"
    RETURN = "return"
    EXCHANGE = "exchange"
    REFUND = "refund"
    COMPLAINT = "complaint"
    SPARE_PARTS = "spare_parts"
    TRAINING = "training"
    EMERGENCY = "emergency"


class Channel(StrEnum):
    """K-2: how the request came in."""

    PHONE = "phone"
    EMAIL = "email"
    ONLINE = "online"
    LETTER = "letter"
    IN_PERSON = "in_person"
    API = "api"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Language(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


class State(StrEnum):
    NEW = "new"  # before RequestRaised; never stored
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    DIAGNOSED = "diagnosed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    WAITING_ON_PARTS = "waiting_on_parts"
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"


class ReturnReason(StrEnum):
    NO_REASON = "no_reason"
    QUALITY_FAULT = "quality_fault"
    WRONG_ITEM = "wrong_item"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    NOT_AS_DESCRIBED = "not_as_described"


class ReturnMethod(StrEnum):
    """How a repaired product goes back to the customer (W §保修流程)."""

    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKED_UP = "picked_up"
    DELIVERED_ON_SITE = "delivered_on_site"


class DiagnosisMethod(StrEnum):
    """F-3: deeper analysis by remote diagnosis or on-site inspection."""

    REMOTE = "remote"
    ON_SITE = "on_site"


class FaultCause(StrEnum):
    """B-WARRANTY-SCOPE: only the product's own quality is covered."""

    QUALITY = "quality"
    MISUSE = "misuse"
    FORCE_MAJEURE = "force_majeure"
    NO_FAULT_FOUND = "no_fault_found"


class Complexity(StrEnum):
    """T-RESOLVE-GENERAL, T-COMPLAINT-*: general and complex cases have different clocks."""

    GENERAL = "general"
    COMPLEX = "complex"


class ComplaintGrade(StrEnum):
    """B-COMPLAINT-GRADE: serious complaints are escalated at once."""

    GENERAL = "general"
    COMPLEX = "complex"
    SERIOUS = "serious"


class EscalationLevel(StrEnum):
    """Who takes the case over; the last three are the B-DISPUTE ladder after negotiation."""

    TEAM_LEAD = "team_lead"
    MANAGEMENT = "management"
    EMERGENCY_TEAM = "emergency_team"
    MEDIATION = "mediation"
    ARBITRATION = "arbitration"
    LITIGATION = "litigation"


DISPUTE_LADDER = (
    EscalationLevel.MEDIATION,
    EscalationLevel.ARBITRATION,
    EscalationLevel.LITIGATION,
)


class BusinessRule(StrEnum):
    """The B-* rules of docs/rules.md §4; a declined request names one of them."""

    WARRANTY_PERIOD = "B-WARRANTY-PERIOD"
    WARRANTY_SCOPE = "B-WARRANTY-SCOPE"
    RETURN_WINDOW = "B-RETURN-WINDOW"
    RETURN_QUALITY = "B-RETURN-QUALITY"
    RETURN_CUSTOM = "B-RETURN-CUSTOM"
    EXCHANGE_SAME = "B-EXCHANGE-SAME"
    REFUND_AMOUNT = "B-REFUND-AMOUNT"
    RETURN_DOCS = "B-RETURN-DOCS"
    EXCHANGE_QUALITY = "B-EXCHANGE-QUALITY"
    PAID_REPAIR_CONSENT = "B-PAID-REPAIR-CONSENT"
    COMPLAINT_GRADE = "B-COMPLAINT-GRADE"
    COMPLAINT_RECORD = "B-COMPLAINT-RECORD"
    DISPUTE = "B-DISPUTE"
    SATISFACTION = "B-SATISFACTION"
    TIME_ORDER = "B-TIME-ORDER"
