"""The notifier's tables: what it knows of each case, and every update it sends."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text

from aftercare.sqltypes import JsonDocument, UtcDateTime

metadata = MetaData()

notifier_cases = Table(
    "notifier_cases",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("partition", Integer, nullable=False),
    Column("phase", String(32), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("language", String(16), nullable=False),
    Column("customer_ref", String(200)),
    Column("opened_at", UtcDateTime),
    Column("last_update_at", UtcDateTime),
    Column("next_due", UtcDateTime),
    Column("last_sequence", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_notifier_cases_next_due", "next_due"),
)
"""``next_due``: when the next routine progress update is owed (indexed; the scheduler
asks for the earliest, it never scans every case). ``last_sequence``: the ticket's last
event applied; an event at or below it is a repeat and changes nothing."""

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("ticket_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("template", String(64), nullable=False),
    Column("trigger_key", String(200), nullable=False, unique=True),
    Column("event", JsonDocument, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("channels", String(100)),
    Column("recipients", String(500)),
    Column("subject", String(500)),
    Column("language", String(16)),
    Column("last_error", Text),
    Column("recorded", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("record_attempts", Integer, nullable=False, server_default="0"),
    Column("record_error", Text),
    Index("ix_notifications_ticket_id", "ticket_id"),
    Index("ix_notifications_next_attempt_at", "next_attempt_at"),
    Index("ix_notifications_unrecorded", "status", "recorded", "next_attempt_at"),
)
"""Recipients and errors are stored masked (P-PII): enough to see where an update went
and why it did not, not more. A sent update not yet ``recorded`` on the ticket is tried
again at ``next_attempt_at``; ``record_error`` says why the ticket service refused it
for good (then it is not tried again)."""
