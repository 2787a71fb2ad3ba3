"""The ticket service's own tables: the list read model and idempotency records.

Both are written in the same transaction as the events they follow, so a ticket in
the list is never behind or ahead of its stream, and a repeated request never appends
twice. The read model can be rebuilt from the events at any time.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table

from aftercare.sqltypes import JsonDocument, Position, UtcDateTime

metadata = MetaData()

ticket_views = Table(
    "ticket_views",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Position, nullable=False),
    Column("state", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("customer_ref", String(200), nullable=False),
    Column("assignee", String(200)),
    Column("region", String(200)),
    Column("subject", String(200), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("reopen_count", Integer, nullable=False),
    Column("summary", JsonDocument, nullable=False),
    Index("ix_ticket_views_created", "created_at", "id"),
    Index("ix_ticket_views_state", "state", "created_at"),
    Index("ix_ticket_views_customer", "customer_ref", "created_at"),
    Index("ix_ticket_views_region", "region", "created_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

ticket_snapshots = Table(
    "ticket_snapshots",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("version", Position, primary_key=True),
    Column("format", String(32), primary_key=True),
    Column("taken_at", UtcDateTime, nullable=False),
    Column("document", JsonDocument, nullable=False),
)
"""Folded states at every 50th version (``repository.Snapshots``); a past state never
changes, so a row is never updated; ``format`` names the shape of the ticket it holds,
and a row of another format is ignored (it is rebuilt from the events when read)."""

status_link_revocations = Table(
    "status_link_revocations",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("revoked_at", UtcDateTime, nullable=False),
    Column("revoked_by", String(100), nullable=False),
)
