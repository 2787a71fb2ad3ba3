"""Which events each idempotent consumer has already applied.

Revision ID: 0003_processed_events
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import UtcDateTime

revision: str = "0003_processed_events"
down_revision: str | None = "0002_relay_checkpoints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("processed_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])


def downgrade() -> None:
    op.drop_table("processed_events")
