"""What the API returns: the public ticket (no personal data), history, contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from aftercare.eventstore import RecordedEvent
from aftercare_ticket.domain.personal import without_personal_data
from aftercare_ticket.domain.ticket import Ticket
from aftercare_ticket.domain.values import Attachment, Product, ReturnDetails
from aftercare_ticket.domain.vocabulary import (
    Channel,
    ComplaintGrade,
    EscalationLevel,
    Kind,
    Language,
    Priority,
    State,
)


class TicketOut(BaseModel):
    id: str
    version: int
    state: State
    kind: Kind
    channel: Channel
    priority: Priority
    urgent: bool
    customer_ref: str
    language: Language
    region: str | None
    subject: str
    description: str
    product: Product
    attachments: list[Attachment]
    return_details: ReturnDetails | None
    requested_at: datetime
    created_at: datetime
    updated_at: datetime
    allowed_commands: list[str]
    plan: str | None
    expected_resolution_at: datetime | None
    risks: str | None
    complaint_grade: ComplaintGrade | None
    diagnosis: dict[str, Any] | None
    workaround: str | None
    resolution: dict[str, Any] | None
    satisfaction: int | None
    reopen_count: int
    escalation_level: EscalationLevel | None
    assignee: str | None
    team: str | None
    visit: dict[str, Any] | None
    last_progress_at: datetime | None
    product_received_at: datetime | None
    waiting_since: datetime | None
    closed_reason: str | None
    declined_rule: str | None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketOut:
        def facts(event: BaseModel | None) -> dict[str, Any] | None:
            if event is None:
                return None
            data = event.model_dump(mode="json", exclude_none=True, exclude={"ticket_id"})
            return without_personal_data(type(event).__name__, data)

        values = {name: getattr(ticket, name) for name in cls.model_fields if name not in _DERIVED}
        return cls(
            **values,
            allowed_commands=[name.replace("_", "-") for name in ticket.allowed_commands],
            diagnosis=facts(ticket.diagnosis),
            resolution=facts(ticket.resolution),
            visit=facts(ticket.visit),
        )


_DERIVED = frozenset({"allowed_commands", "diagnosis", "resolution", "visit"})
"""``TicketOut`` fields not copied from the ticket by name: commands as in the URLs, and
the facts of the steps with personal data removed (P-PII)."""


class TicketSummary(BaseModel):
    id: str
    version: int
    state: State
    kind: Kind
    channel: Channel
    priority: Priority
    urgent: bool
    customer_ref: str
    assignee: str | None
    region: str | None = None
    subject: str
    requested_at: datetime
    created_at: datetime
    updated_at: datetime
    reopen_count: int
    allowed_commands: list[str]

    @classmethod
    def of(cls, row: dict[str, Any]) -> TicketSummary:
        allowed = row["summary"].get("allowed_commands", [])
        return cls.model_validate(
            {**row, "allowed_commands": [name.replace("_", "-") for name in allowed]}
        )


class TicketPage(BaseModel):
    items: list[TicketSummary]
    next_cursor: str | None
    next: str | None = None


class EventOut(BaseModel):
    event_id: str
    type: str
    schema_version: int
    version: int
    global_position: int
    recorded_at: datetime
    data: dict[str, Any]
    metadata: dict[str, Any]

    @classmethod
    def of(cls, event: RecordedEvent, personal_data: bool) -> EventOut:
        data = event.data if personal_data else without_personal_data(event.type, event.data)
        return cls(
            event_id=str(event.event_id),
            type=event.type,
            schema_version=event.schema_version,
            version=event.version,
            global_position=event.global_position,
            recorded_at=event.recorded_at,
            data=data,
            metadata=event.metadata,
        )


class HistoryOut(BaseModel):
    ticket_id: str
    events: list[EventOut]


class ContactOut(BaseModel):
    ticket_id: str
    customer_ref: str
    name: str
    email: str | None
    phone: str | None
    language: Language
    channel: Channel
