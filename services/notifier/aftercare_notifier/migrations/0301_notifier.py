"""The notifier's tables.

Revision ID: 0301_notifier
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import JsonDocument, UtcDateTime

revision: str = "0301_notifier"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("notifier",)
depends_on: str | Sequence[str] | None = "0003_processed_events"


def upgrade() -> None:
    op.create_table(
        "notifier_cases",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("customer_ref", sa.String(200)),
        sa.Column("opened_at", UtcDateTime),
        sa.Column("last_update_at", UtcDateTime),
        sa.Column("next_due", UtcDateTime),
        sa.Column("last_sequence", sa.Integer, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_notifier_cases_next_due", "notifier_cases", ["next_due"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("trigger_key", sa.String(200), nullable=False, unique=True),
        sa.Column("event", JsonDocument, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime),
        sa.Column("channels", sa.String(100)),
        sa.Column("recipients", sa.String(500)),
        sa.Column("subject", sa.String(500)),
        sa.Column("language", sa.String(16)),
        sa.Column("last_error", sa.Text),
        sa.Column("recorded", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime),
    )
    op.create_index("ix_notifications_ticket_id", "notifications", ["ticket_id"])
    op.create_index("ix_notifications_next_attempt_at", "notifications", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("notifier_cases")
