"""Operator-entered indicators of Q's tree.

Revision ID: 0406_indicator_entries
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import UtcDateTime

revision: str = "0406_indicator_entries"
down_revision: str | None = "0405_assessments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicator_entries",
        sa.Column("indicator", sa.String(64), primary_key=True),
        sa.Column("valid_from", UtcDateTime, primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("entered_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", UtcDateTime, primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("indicator_entries")
