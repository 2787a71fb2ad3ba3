"""Events a relay could not publish, set aside for an operator.

Revision ID: 0006_relay_dead_letters
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import Position, UtcDateTime

revision: str = "0006_relay_dead_letters"
down_revision: str | None = "0005_events_by_type"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relay_dead_letters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("relay", sa.String(100), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("global_position", Position, nullable=False),
        sa.Column("transaction_id", sa.BigInteger, nullable=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("version", Position, nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("dead_at", UtcDateTime, nullable=False),
        sa.Column("replayed_at", UtcDateTime),
        sa.UniqueConstraint("relay", "event_id", name="uq_relay_dead_letters_event"),
    )


def downgrade() -> None:
    op.drop_table("relay_dead_letters")
