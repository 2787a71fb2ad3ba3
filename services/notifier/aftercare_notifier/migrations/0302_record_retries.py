"""Recording an update on the ticket backs off, and stops on a permanent refusal.

Revision ID: 0302_record_retries
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0302_record_retries"
down_revision: str | None = "0301_notifier"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(
            sa.Column("record_attempts", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("record_error", sa.Text))
    op.create_index(
        "ix_notifications_unrecorded", "notifications", ["status", "recorded", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_unrecorded", "notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("record_error")
        batch.drop_column("record_attempts")
