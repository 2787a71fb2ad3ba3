"""The watcher's own tables: the ticket events it has seen, and one row per timer cycle."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, false

from aftercare.sqltypes import JsonDocument, Position, UtcDateTime

metadata = MetaData()

sla_facts = Table(
    "sla_facts",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("sequence", Position, primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("type", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("data", JsonDocument, nullable=False),
)
"""A ticket's published events, kept so timers can be recomputed when the policy changes."""

sla_tickets = Table(
    "sla_tickets",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("partition", Integer, nullable=False),
    Column("terminal", Boolean, nullable=False),
    Column("policy_version", String(32), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The ticket's place in the work queue, kept in step with its timers (``queue_store``):
    Column("open_clocks", Integer, nullable=False, server_default="0"),
    Column("next_deadline", UtcDateTime),
    Column("breached", Boolean, nullable=False, server_default=false()),
    Index("ix_sla_tickets_queue", "next_deadline", "ticket_id"),
)

sla_timers = Table(
    "sla_timers",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("rule", String(64), primary_key=True),
    Column("cycle", Integer, primary_key=True),
    Column("partition", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("clock", String(16), nullable=False),
    Column("budget_seconds", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime),
    Column("warn_at", UtcDateTime),
    Column("stopped_at", UtcDateTime),
    Column("running_since", UtcDateTime),
    Column("paused_since", UtcDateTime),
    Column("pause_reasons", String(100), nullable=False),
    Column("consumed_seconds", Integer, nullable=False),
    Column("total_seconds", Integer, nullable=False),
    Column("facts", JsonDocument, nullable=False),
    Column("policy_version", String(32), nullable=False),
    Column("warned", Boolean, nullable=False),
    Column("breached", Boolean, nullable=False),
    Column("met_reported", Boolean, nullable=False),
    Column("breached_at", UtcDateTime),
    Column("next_due", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_sla_timers_next_due", "next_due"),
    Index("ix_sla_timers_breached_at", "breached_at"),
)
"""``next_due`` is the next instant the scheduler must act on (a warning or a breach);
the scheduler asks the index for the earliest, it never scans the open tickets."""

sla_alerts = Table(
    "sla_alerts",
    metadata,
    Column("alert_id", String(200), primary_key=True),
    Column("ticket_id", String(64), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("paging_group", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("triggered_at", UtcDateTime, nullable=False),
    Column("next_due", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_sla_alerts_next_due", "next_due"),
    Index("ix_sla_alerts_open", "state", "paging_group"),
)
"""One row per on-call alert (its events are the stream ``alert-…`` in the log): what
``GET /alerts`` lists, and ``next_due``, the instant its next step or reminder is due, on
an index the scheduler asks as it does for the clocks."""

sla_oncall_overrides = Table(
    "sla_oncall_overrides",
    metadata,
    Column("override_id", String(32), primary_key=True),
    Column("schedule", String(64), nullable=False),
    Column("person", String(64), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_sla_oncall_overrides_schedule", "schedule", "ends_at"),
)
"""Overrides entered over the API (holiday cover), on top of the policy file's."""

sla_pages_sent = Table(
    "sla_pages_sent",
    metadata,
    Column("target", String(200), nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    Index("ix_sla_pages_sent_target", "target", "sent_at"),
)
"""The messages each page target (a person's e-mail, one of a group's channels) took
lately: what the page limit counts. Rows older than a day are pruned."""

sla_pages_held = Table(
    "sla_pages_held",
    metadata,
    Column("target", String(200), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("alert_id", String(200), nullable=False),
    Column("held_at", UtcDateTime, nullable=False),
)
"""Alert events a target was not sent because it had reached the page limit; they go
as one message when the window has room, and leave this table once it is sent."""
