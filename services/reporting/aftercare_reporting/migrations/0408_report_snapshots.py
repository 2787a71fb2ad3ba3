"""Each case folded as its facts arrive (cases without one are folded from their facts).

Revision ID: 0408_report_snapshots
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import JsonDocument, UtcDateTime

revision: str = "0408_report_snapshots"
down_revision: str | None = "0407_report_publications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_snapshots",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("requested_at", UtcDateTime, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("last_sequence", sa.Integer, nullable=False),
        sa.Column("folded", sa.Integer, nullable=False),
        sa.Column("document", JsonDocument, nullable=False),
    )
    op.create_index(
        "ix_report_snapshots_requested_at", "report_snapshots", ["requested_at", "updated_at"]
    )


def downgrade() -> None:
    op.drop_table("report_snapshots")
