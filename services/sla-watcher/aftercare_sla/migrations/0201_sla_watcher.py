"""The SLA watcher's tables: the ticket events it has seen, tickets, timer cycles.

Revision ID: 0201_sla_watcher
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import JsonDocument, Position, UtcDateTime

revision: str = "0201_sla_watcher"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("sla",)
depends_on: str | Sequence[str] | None = "0001_events"


def upgrade() -> None:
    op.create_table(
        "sla_facts",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("sequence", Position, primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("data", JsonDocument, nullable=False),
    )
    op.create_table(
        "sla_tickets",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("terminal", sa.Boolean, nullable=False),
        sa.Column("policy_version", sa.String(32), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "sla_timers",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("rule", sa.String(64), primary_key=True),
        sa.Column("cycle", sa.Integer, primary_key=True),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("clock", sa.String(16), nullable=False),
        sa.Column("budget_seconds", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("deadline", UtcDateTime),
        sa.Column("warn_at", UtcDateTime),
        sa.Column("stopped_at", UtcDateTime),
        sa.Column("running_since", UtcDateTime),
        sa.Column("paused_since", UtcDateTime),
        sa.Column("pause_reasons", sa.String(100), nullable=False),
        sa.Column("consumed_seconds", sa.Integer, nullable=False),
        sa.Column("total_seconds", sa.Integer, nullable=False),
        sa.Column("facts", JsonDocument, nullable=False),
        sa.Column("policy_version", sa.String(32), nullable=False),
        sa.Column("warned", sa.Boolean, nullable=False),
        sa.Column("breached", sa.Boolean, nullable=False),
        sa.Column("met_reported", sa.Boolean, nullable=False),
        sa.Column("breached_at", UtcDateTime),
        sa.Column("next_due", UtcDateTime),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_sla_timers_next_due", "sla_timers", ["next_due"])
    op.create_index("ix_sla_timers_breached_at", "sla_timers", ["breached_at"])


def downgrade() -> None:
    for name in ("sla_timers", "sla_tickets", "sla_facts"):
        op.drop_table(name)
