"""Followers of a few event types read them through an index, in log order.

Revision ID: 0005_events_by_type
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_events_by_type"
down_revision: str | None = "0004_log_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_events_type_log_order", "events", ["type", "transaction_id", "global_position"]
    )


def downgrade() -> None:
    op.drop_index("ix_events_type_log_order", "events")
