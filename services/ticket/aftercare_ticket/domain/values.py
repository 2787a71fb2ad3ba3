"""Value objects shared by commands and events, with the validation the rules ask for."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AnyUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from aftercare.schemas import PERSONAL_MARKER
from aftercare_ticket.domain.vocabulary import Language, ReturnReason

# B-TIME-ORDER (Q §七 completeness check): required text is never empty or blank. No
# text holds U+0000: PostgreSQL cannot store it, so neither database accepts it.
STORABLE = r"^[^\x00]*$"
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000, pattern=STORABLE),
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=STORABLE)
]
MAX_ITEMS = 50
"""Longest list a request may carry (attachments, parts): bodies small, events publishable."""

STORED = {"stored": True}
"""Validation context for events read back from the store: what this service wrote after
validating it once. Checks that only repeat that work (an e-mail address's syntax and
domain, a tenth of a replay's time) are skipped; the shape is still checked."""


def _once_checked(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    if isinstance(value, str) and isinstance(info.context, dict) and info.context.get("stored"):
        return value
    return handler(value)


Email = Annotated[EmailStr, WrapValidator(_once_checked)]
"""An e-mail address, checked when it comes in and trusted when read back (``STORED``)."""

PERSONAL: JsonDict = {PERSONAL_MARKER: True}
"""Marks a field as personal data (P-PII): kept in the store, never shown to integrators."""


def _likert(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise PydanticCustomError(
            "rule_violation",
            "satisfaction is a whole number from 1 to 5 (B-SATISFACTION)",
            {"rule": "B-SATISFACTION"},
        )
    return value


Satisfaction = Annotated[
    int,
    BeforeValidator(_likert),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 5}),
]


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Contact(Value):
    """How to reach the customer: personal data, seen only by admins and the notifier."""

    name: ShortText = Field(json_schema_extra=PERSONAL)
    email: Email | None = Field(default=None, json_schema_extra=PERSONAL)
    phone: ShortText | None = Field(default=None, json_schema_extra=PERSONAL)


class Product(Value):
    """K-3 purchase information."""

    sku: ShortText | None = None
    model: ShortText | None = None
    serial: ShortText | None = None
    lot: ShortText | None = None
    """The production batch or lot (Wn, S A12: defects are fed back by model and lot)."""
    order_ref: ShortText | None = None
    purchase_date: date | None = None
    received_date: date | None = None
    custom_made: bool = False


class Attachment(Value):
    name: ShortText
    url: AnyUrl
    kind: ShortText | None = Field(
        default=None, description="e.g. proof_of_purchase, photo, log, screenshot"
    )


class ReturnDetails(Value):
    """What a return or exchange application states (B-RETURN-WINDOW, B-RETURN-CUSTOM)."""

    reason: ReturnReason
    unused: bool = False
    packaging_intact: bool = False
    repair_failed: bool = False
    """B-RETURN-QUALITY: a repair under warranty did not fix the quality fault."""


class Money(Value):
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "CNY"


class FeeQuote(Value):
    """B-WARRANTY-SCOPE: paid repair is quoted up front, with the process."""

    fee: Money
    process: Text


class Verification(Value):
    """F-5: how the fix was checked, and that it held."""

    method: Text
    result: Text
    passed: bool


class RepairReport(Value):
    """T-REPAIR-NOTIFY: work done and parts replaced."""

    work_done: Text
    parts_replaced: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)


class Replacement(Value):
    """B-EXCHANGE-SAME: same model and spec, or a better one with the customer's consent."""

    model: ShortText
    sku: ShortText | None = None
    customer_consent: bool = False
    substitution_reason: Text | None = None


class Refund(Value):
    """B-REFUND-AMOUNT: price plus shipping where due, back by the original method."""

    purchase_price: Money
    shipping: Money | None = None
    method: Annotated[str, StringConstraints(pattern=r"^original_payment$")] = "original_payment"

    @property
    def total(self) -> Decimal:
        return self.purchase_price.amount + (self.shipping.amount if self.shipping else 0)


__all__ = [
    "MAX_ITEMS",
    "PERSONAL",
    "Attachment",
    "Contact",
    "FeeQuote",
    "Language",
    "Money",
    "Product",
    "Refund",
    "RepairReport",
    "Replacement",
    "ReturnDetails",
    "Satisfaction",
    "ShortText",
    "Text",
    "Value",
    "Verification",
]
