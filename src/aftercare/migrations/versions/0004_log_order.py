"""Appends in parallel: the log is read in (writing transaction id, position) order.

Revision ID: 0004_log_order
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_log_order"
down_revision: str | None = "0003_processed_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    default = sa.text("txid_current()") if postgres else sa.text("0")
    op.add_column(
        "events", sa.Column("transaction_id", sa.BigInteger, nullable=False, server_default=default)
    )
    op.create_index("ix_events_log_order", "events", ["transaction_id", "global_position"])
    op.add_column(
        "relay_checkpoints",
        sa.Column("transaction_id", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    op.drop_column("relay_checkpoints", "transaction_id")
    op.drop_index("ix_events_log_order", "events")
    op.drop_column("events", "transaction_id")
