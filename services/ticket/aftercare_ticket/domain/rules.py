"""Eligibility and business rules (B-*), each refusing with its rule ID."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aftercare_ticket.domain.errors import Refusal
from aftercare_ticket.domain.values import Attachment, Product, Replacement, ReturnDetails
from aftercare_ticket.domain.vocabulary import (
    DISPUTE_LADDER,
    EscalationLevel,
    FaultCause,
    Kind,
    ReturnReason,
)


@dataclass(frozen=True, slots=True)
class Policy:
    """The configurable side of the rules."""

    return_window_days: int = 7  # B-RETURN-WINDOW
    warranty_months: int = 12  # B-WARRANTY-PERIOD, for models not listed below
    warranty_months_by_model: dict[str, int] = field(default_factory=dict)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    # B-TIME-ORDER: how far back a request or a step may be logged after the fact. A
    # request "made" in 1970 is a typing error, and its SLA clocks would page at once.
    max_backdate: timedelta = timedelta(days=30)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.timezone).date()

    def warranty_end(self, product: Product) -> date | None:
        """Last day of warranty: the period runs from the purchase date (B-WARRANTY-PERIOD)."""
        if product.purchase_date is None:
            return None
        months = self.warranty_months_by_model.get(product.model or "", self.warranty_months)
        return add_months(product.purchase_date, months)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_time_order(
    instant: datetime,
    *,
    not_before: datetime | None,
    now: datetime,
    field_name: str,
    max_backdate: timedelta | None = None,
) -> None:
    """B-TIME-ORDER: a response never precedes its request, nothing is in the future, and
    nothing is logged longer after the fact than ``max_backdate``."""
    if instant > now:
        raise Refusal(
            "B-TIME-ORDER", f"{field_name} {instant.isoformat()} is in the future", field_name
        )
    if max_backdate is not None and instant < now - max_backdate:
        raise Refusal(
            "B-TIME-ORDER",
            f"{field_name} {instant.isoformat()} is more than {max_backdate.days} days ago: "
            "older steps cannot be logged after the fact",
            field_name,
        )
    if not_before is not None and instant < not_before:
        raise Refusal(
            "B-TIME-ORDER",
            f"{field_name} {instant.isoformat()} precedes the request at {not_before.isoformat()}",
            field_name,
        )


def check_product_dates(product: Product, requested_on: date) -> None:
    """B-TIME-ORDER on the purchase information: bought, then received, then asked."""
    if product.purchase_date and product.purchase_date > requested_on:
        raise Refusal("B-TIME-ORDER", "purchase_date is after the request", "product.purchase_date")
    if product.received_date and product.received_date > requested_on:
        raise Refusal("B-TIME-ORDER", "received_date is after the request", "product.received_date")
    if (
        product.purchase_date
        and product.received_date
        and product.received_date < product.purchase_date
    ):
        raise Refusal(
            "B-TIME-ORDER", "received_date precedes purchase_date", "product.received_date"
        )


def check_return_application(
    kind: Kind,
    details: ReturnDetails | None,
    product: Product,
    attachments: list[Attachment],
    requested_on: date,
    policy: Policy,
) -> None:
    """B-RETURN-DOCS, B-RETURN-CUSTOM, B-RETURN-WINDOW for returns and exchanges."""
    if kind not in (Kind.RETURN, Kind.EXCHANGE):
        return
    if details is None:
        raise Refusal("B-RETURN-DOCS", f"a {kind} application states its reason", "return_details")
    has_proof = product.order_ref is not None or any(
        attachment.kind == "proof_of_purchase" for attachment in attachments
    )
    if not has_proof:
        raise Refusal(
            "B-RETURN-DOCS",
            "proof of purchase is required: product.order_ref or an attachment of kind "
            "proof_of_purchase",
            "product.order_ref",
        )
    if details.reason is not ReturnReason.NO_REASON:
        return
    if product.custom_made:
        raise Refusal(
            "B-RETURN-CUSTOM",
            "custom-made products are returned only for a quality fault",
            "return_details.reason",
        )
    if product.received_date is None:
        raise Refusal(
            "B-RETURN-WINDOW",
            "a no-reason return needs the date of receipt",
            "product.received_date",
        )
    days = (requested_on - product.received_date).days
    if days > policy.return_window_days:
        raise Refusal(
            "B-RETURN-WINDOW",
            f"received {days} days before the request; no-reason returns are accepted "
            f"within {policy.return_window_days} days of receipt",
            "product.received_date",
        )
    if not (details.unused and details.packaging_intact):
        raise Refusal(
            "B-RETURN-WINDOW",
            "a no-reason return must be unused with its packaging intact",
            "return_details",
        )


def check_quality_grounds(
    kind: Kind, details: ReturnDetails | None, product: Product, requested_on: date, policy: Policy
) -> None:
    """B-EXCHANGE-QUALITY, B-RETURN-QUALITY: an exchange, and a quality return after the
    no-reason window, rest on a quality problem within warranty; a quality return also
    on a repair that did not fix it."""
    if details is None or kind not in (Kind.RETURN, Kind.EXCHANGE):
        return
    end = policy.warranty_end(product)
    in_warranty = end is not None and requested_on <= end
    if kind is Kind.EXCHANGE:
        if details.reason is ReturnReason.NO_REASON:
            raise Refusal(
                "B-EXCHANGE-QUALITY",
                "an exchange is for a quality problem",
                "return_details.reason",
            )
        if not in_warranty:
            raise Refusal(
                "B-EXCHANGE-QUALITY",
                "an exchange is for a quality problem within warranty"
                + (f" (ended on {end.isoformat()})" if end else " (no purchase date)"),
                "product.purchase_date",
            )
        return
    if details.reason is not ReturnReason.QUALITY_FAULT:
        return
    received = product.received_date
    if received is not None and (requested_on - received).days <= policy.return_window_days:
        return  # within the window a quality fault is returned as it is
    if not in_warranty:
        raise Refusal(
            "B-RETURN-QUALITY",
            "after the return window a quality return is accepted within warranty only",
            "product.purchase_date",
        )
    if not details.repair_failed:
        raise Refusal(
            "B-RETURN-QUALITY",
            "after the return window a quality fault is repaired first; a return follows "
            "a repair that did not fix it (return_details.repair_failed)",
            "return_details.repair_failed",
        )


def check_complaint_record(kind: Kind, reachable: bool, product: Product) -> None:
    """B-COMPLAINT-RECORD: a complaint records who complains (the name every request
    carries), how to reach them, and what they bought (W §投诉受理)."""
    if kind is not Kind.COMPLAINT:
        return
    if not reachable:
        raise Refusal(
            "B-COMPLAINT-RECORD",
            "a complaint records a phone number or an e-mail address",
            "customer.phone",
        )
    if product.order_ref is None and product.purchase_date is None:
        raise Refusal(
            "B-COMPLAINT-RECORD",
            "a complaint records the purchase: product.order_ref or product.purchase_date",
            "product.order_ref",
        )


@dataclass(frozen=True, slots=True)
class Coverage:
    covered: bool
    rule: str
    explanation: str


def warranty_coverage(
    product: Product, cause: FaultCause, diagnosed_on: date, policy: Policy
) -> Coverage:
    """B-WARRANTY-PERIOD then B-WARRANTY-SCOPE: in time, and the product's own fault."""
    end = policy.warranty_end(product)
    if end is None:
        return Coverage(False, "B-WARRANTY-PERIOD", "no purchase date on record")
    if diagnosed_on > end:
        return Coverage(False, "B-WARRANTY-PERIOD", f"warranty ended on {end.isoformat()}")
    if cause in (FaultCause.MISUSE, FaultCause.FORCE_MAJEURE):
        return Coverage(False, "B-WARRANTY-SCOPE", f"{cause} is not covered")
    return Coverage(True, "B-WARRANTY-SCOPE", f"covered until {end.isoformat()}")


def check_replacement(original: Product, replacement: Replacement) -> None:
    """B-EXCHANGE-SAME: same model, or another with consent and a reason."""
    if original.model is not None and replacement.model == original.model:
        return
    if not (replacement.customer_consent and replacement.substitution_reason):
        raise Refusal(
            "B-EXCHANGE-SAME",
            f"replacement model {replacement.model!r} differs from {original.model!r}: "
            "needs the customer's consent and the reason (discontinued, out of stock)",
            "replacement",
        )


def check_dispute_step(history: tuple[EscalationLevel, ...], level: EscalationLevel) -> None:
    """B-DISPUTE: negotiation, then mediation, then arbitration or litigation."""
    if level not in DISPUTE_LADDER or level is EscalationLevel.MEDIATION:
        return
    if EscalationLevel.MEDIATION not in history:
        raise Refusal(
            "B-DISPUTE",
            f"{level} comes after third-party mediation, which has not been tried",
            "level",
        )
