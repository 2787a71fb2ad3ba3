"""The ticket list read model and idempotency records.

Revision ID: 0101_ticket_views
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import JsonDocument, Position, UtcDateTime

revision: str = "0101_ticket_views"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("ticket",)
depends_on: str | Sequence[str] | None = "0001_events"


def upgrade() -> None:
    op.create_table(
        "ticket_views",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", Position, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("customer_ref", sa.String(200), nullable=False),
        sa.Column("assignee", sa.String(200)),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("requested_at", UtcDateTime, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("reopen_count", sa.Integer, nullable=False),
        sa.Column("summary", JsonDocument, nullable=False),
    )
    op.create_index("ix_ticket_views_created", "ticket_views", ["created_at", "id"])
    op.create_index("ix_ticket_views_state", "ticket_views", ["state", "created_at"])
    op.create_index("ix_ticket_views_customer", "ticket_views", ["customer_ref", "created_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("ticket_views")
